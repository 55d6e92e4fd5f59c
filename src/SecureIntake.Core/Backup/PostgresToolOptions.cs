namespace SecureIntake.Core.Backup;

/// <summary>Where `backup` and `restore` look for pg_dump and pg_restore (section "Backup").</summary>
public sealed class PostgresToolOptions
{
    public const string Section = "Backup";

    /// <summary>
    /// Folders searched in order; "{major}" stands for the server's major version. Empty (the default): Debian's
    /// /usr/lib/postgresql/{major}/bin, then every folder on PATH. Set it when the tools live elsewhere.
    /// </summary>
    public List<string> ToolDirectories { get; set; } = [];
}
