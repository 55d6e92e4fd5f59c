using System.Data;
using Dapper;
using Npgsql;

namespace SecureIntake.Core.Storage;

/// <summary>
/// Our one way to run SQL: Dapper binds parameters from an object's properties and maps result columns to records by
/// name (columns are aliased to the record's parameter names), so no reader is read by position and no parameter is
/// added by hand. Each call takes the cancellation token of the request or job it serves.
/// </summary>
public static class Sql
{
    static Sql()
    {
        // Npgsql reads timestamptz as a UTC DateTime; our records hold DateTimeOffset. Dapper keeps type handlers
        // process-wide; this class's static constructor is the one place it is set, before any query can run.
        SqlMapper.AddTypeHandler(new UtcTimestampHandler());
    }

    public static async Task<IReadOnlyList<T>> QueryAsync<T>(this NpgsqlDataSource dataSource, string sql, object? args, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await QueryAsync<T>(connection, sql, args, null, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<T?> QuerySingleOrDefaultAsync<T>(this NpgsqlDataSource dataSource, string sql, object? args, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await QuerySingleOrDefaultAsync<T>(connection, sql, args, null, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<int> ExecuteAsync(this NpgsqlDataSource dataSource, string sql, object? args, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, sql, args, null, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<T?> ScalarAsync<T>(this NpgsqlDataSource dataSource, string sql, object? args, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ScalarAsync<T>(connection, sql, args, null, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<IReadOnlyList<T>> QueryAsync<T>(this NpgsqlConnection connection, string sql, object? args, NpgsqlTransaction? transaction,
        CancellationToken cancellationToken) =>
        (await SqlMapper.QueryAsync<T>(connection, Command(sql, args, transaction, cancellationToken)).ConfigureAwait(false)).AsList();

    public static Task<T?> QuerySingleOrDefaultAsync<T>(this NpgsqlConnection connection, string sql, object? args, NpgsqlTransaction? transaction,
        CancellationToken cancellationToken) =>
        SqlMapper.QuerySingleOrDefaultAsync<T?>(connection, Command(sql, args, transaction, cancellationToken));

    public static Task<int> ExecuteAsync(this NpgsqlConnection connection, string sql, object? args, NpgsqlTransaction? transaction, CancellationToken cancellationToken) =>
        SqlMapper.ExecuteAsync(connection, Command(sql, args, transaction, cancellationToken));

    public static Task<T?> ScalarAsync<T>(this NpgsqlConnection connection, string sql, object? args, NpgsqlTransaction? transaction, CancellationToken cancellationToken) =>
        SqlMapper.ExecuteScalarAsync<T?>(connection, Command(sql, args, transaction, cancellationToken));

    private static CommandDefinition Command(string sql, object? args, NpgsqlTransaction? transaction, CancellationToken cancellationToken) =>
        new(sql, args, transaction, cancellationToken: cancellationToken);

    private sealed class UtcTimestampHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
            DateTimeOffset time => time,
            _ => throw new InvalidCastException($"a {value.GetType().Name} is not a timestamp"),
        };

        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value) => parameter.Value = value;
    }
}
