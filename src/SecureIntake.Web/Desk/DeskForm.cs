using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace SecureIntake.Web.Desk;

/// <summary>
/// A small urlencoded desk form, read pair by pair into memory with hard limits (ASP.NET's form reading is
/// not used anywhere: for multipart bodies it buffers to disk). Bound as a handler parameter; a body that is not
/// such a form binds as <see cref="IsReadable"/> false, so the form check answers it with a page, not a bare 400.
/// </summary>
internal sealed class DeskForm
{
    public const int MaxBytes = 256 * 1024;

    private static readonly DeskForm Unreadable = new([]) { IsReadable = false };

    private readonly Dictionary<string, List<string>> _values;

    private DeskForm(Dictionary<string, List<string>> values) => _values = values;

    public bool IsReadable { get; private init; } = true;

    public static async ValueTask<DeskForm?> BindAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return await ReadAsync(context.Request, context.RequestAborted) ?? Unreadable;
    }

    public static async Task<DeskForm?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes || !(request.ContentType ?? "").StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        try
        {
            using var reader = new FormReader(request.Body) { ValueCountLimit = 1000, KeyLengthLimit = 64, ValueLengthLimit = MaxBytes };
            var total = 0L;
            while (await reader.ReadNextPairAsync(cancellationToken) is { } pair)
            {
                total += pair.Key.Length + pair.Value.Length;
                if (total > MaxBytes)
                {
                    return null;
                }

                if (!values.TryGetValue(pair.Key, out var list))
                {
                    values[pair.Key] = list = [];
                }

                list.Add(pair.Value);
            }
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException)
        {
            return null;
        }

        return new DeskForm(values);
    }

    public string? this[string key] => _values.TryGetValue(key, out var list) && list.Count > 0 ? list[0] : null;

    public IReadOnlyList<string> All(string key) => _values.TryGetValue(key, out var list) ? list : [];
}
