namespace SecureIntake.Testing;

/// <summary>A private directory under /tmp, removed with everything in it.</summary>
public sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory(string prefix, string? parent = null)
    {
        Path = parent is null
            ? Directory.CreateTempSubdirectory(prefix).FullName
            : Directory.CreateDirectory(System.IO.Path.Combine(parent, prefix + Guid.NewGuid().ToString("N")), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process may still hold a file open while it exits; the OS cleans /tmp eventually.
        }
    }
}
