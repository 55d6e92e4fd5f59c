namespace SecureIntake.Desk;

/// <summary>
/// Decrypted content becomes visible under its name only once its integrity check passed: it is written to
/// a hidden partial file beside the target (owner-only), renamed on success and deleted on any failure.
/// </summary>
internal static class PlaintextFile
{
    public static async Task WriteVerifiedAsync(string target, Func<Stream, Task> write, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(target))!;
        var partial = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            await using (var stream = new FileStream(partial, options))
            {
                await write(stream);
                await stream.FlushAsync(cancellationToken);
            }

            // No overwrite: a file that appeared meanwhile is kept and this one reported.
            File.Move(partial, target, overwrite: false);
        }
        finally
        {
            File.Delete(partial);
        }
    }
}
