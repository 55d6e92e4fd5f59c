namespace SecureIntake.Server.Tests.Deploy;

/// <summary>The checkout's deploy/ folder, read as an admin following deploy/README.md would read it.</summary>
internal static class DeployFolder
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string File(params string[] parts) => Path.Combine([RepositoryRoot, "deploy", .. parts]);

    /// <summary>Every shell script an admin runs: deploy's *.sh, and files there that start with a shell's #!.</summary>
    public static IEnumerable<string> ShellScripts() =>
        Directory.EnumerateFiles(Path.Combine(RepositoryRoot, "deploy"), "*", SearchOption.AllDirectories)
            .Where(path => path.EndsWith(".sh", StringComparison.Ordinal) || StartsWithShellLine(path))
            .Order(StringComparer.Ordinal);

    private static bool StartsWithShellLine(string path)
    {
        using var reader = new StreamReader(path);
        var first = reader.ReadLine() ?? "";
        return first.StartsWith("#!", StringComparison.Ordinal) && (first.Contains("bash", StringComparison.Ordinal) || first.EndsWith("/sh", StringComparison.Ordinal));
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(directory.FullName, "SecureIntake.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("the tests run from inside the repository");
    }
}
