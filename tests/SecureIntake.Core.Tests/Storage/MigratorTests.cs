using Microsoft.Extensions.Logging.Abstractions;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Tests.Storage;

public sealed class MigratorTests
{
    [Fact]
    public async Task Two_processes_migrating_at_once_apply_each_migration_exactly_once()
    {
        await using var dataSource = await CoreDatabase.CreateAsync(migrate: false);
        var migrators = Enumerable.Range(0, 4).Select(_ => new Migrator(dataSource, NullLogger<Migrator>.Instance)).ToList();

        var results = await Task.WhenAll(migrators.Select(m => m.MigrateAsync(CancellationToken.None)));

        Assert.Equal(Migrator.Migrations().Select(m => m.Name), results.SelectMany(r => r).Order(StringComparer.Ordinal));
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM schema_migrations");
        Assert.Equal((long)Migrator.Migrations().Count, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_fresh_database_has_the_default_desk()
    {
        await using var dataSource = await CoreDatabase.CreateAsync();

        await using var command = dataSource.CreateCommand("SELECT name FROM desks");

        Assert.Equal("default", await command.ExecuteScalarAsync());
    }

    [Fact]
    public void Migrations_are_numbered_without_gaps()
    {
        var versions = Migrator.Migrations().Select(m => m.Version).ToList();

        Assert.Equal(Enumerable.Range(1, versions.Count), versions);
    }
}
