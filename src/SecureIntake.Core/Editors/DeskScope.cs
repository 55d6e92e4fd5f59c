using Dapper;

namespace SecureIntake.Core.Editors;

/// <summary>
/// The desks whose submissions a request may see and act on: every desk for an admin (and for the service's
/// own jobs), the editor's own desks otherwise. Made once per request by <see cref="DeskMembership.ScopeOfAsync"/>
/// and checked in SQL by every query that reads or changes a submission, so a submission outside it answers
/// exactly as one that does not exist.
/// </summary>
public sealed class DeskScope
{
    private const string ParameterName = "scope_desks";

    private readonly Guid[]? _desks;

    private DeskScope(Guid[]? desks) => _desks = desks;

    /// <summary>Every desk: admins, and the service itself (retention).</summary>
    public static DeskScope Everything { get; } = new(null);

    public static DeskScope Of(IEnumerable<Guid> deskIds) => new([.. deskIds.Distinct()]);

    public bool IsEverything => _desks is null;

    /// <summary>The desks in scope; empty for <see cref="Everything"/>, which needs no list.</summary>
    public IReadOnlyList<Guid> DeskIds => _desks ?? [];

    /// <summary>A SQL condition on a column holding a desk id; pass the query's arguments through <see cref="Arguments"/>.</summary>
    internal string Condition(string deskIdColumn) => _desks is null ? "true" : $"{deskIdColumn} = ANY(@{ParameterName})";

    /// <summary>
    /// A query's own arguments (an anonymous object, as <see cref="Storage.Sql"/> takes them) plus the desks that
    /// <see cref="Condition"/> names: <c>dataSource.QueryAsync&lt;T&gt;($"... WHERE {scope.Condition("s.desk_id")}", scope.Arguments(new { Id = id }), ct)</c>.
    /// </summary>
    internal DynamicParameters Arguments(object? args = null)
    {
        var parameters = new DynamicParameters(args);
        if (_desks is not null)
        {
            parameters.Add(ParameterName, _desks);
        }

        return parameters;
    }
}
