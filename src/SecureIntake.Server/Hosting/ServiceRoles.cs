namespace SecureIntake.Server.Hosting;

[Flags]
internal enum ServiceRoles
{
    Web = 1,
    Worker = 2,
    All = Web | Worker,
}
