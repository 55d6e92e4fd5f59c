using Npgsql;

namespace SecureIntake.Core.Status;

/// <summary>How a background part is doing, as the desk shows it.</summary>
public sealed record ComponentStatus(
    string Component,
    DateTimeOffset? SucceededAt,
    DateTimeOffset? FailedAt,
    string? Failure,
    int FailuresInARow,
    DateTimeOffset? RetryAfter,
    int Quarantined,
    DateTimeOffset? QuarantinedAt);

/// <summary>
/// Health of background parts (the mail gateway, notifications) kept in the database, so every process
/// and the desk see the same: successes, failures with a back-off, and messages set aside.
/// </summary>
public sealed class ServiceStatus(NpgsqlDataSource dataSource, TimeProvider clock)
{
    public static readonly TimeSpan LongestBackOff = TimeSpan.FromMinutes(30);

    public async Task SucceededAsync(string component, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO service_status (component, succeeded_at) VALUES (@component, @now)
            ON CONFLICT (component) DO UPDATE SET succeeded_at = @now, failures_in_a_row = 0, retry_after = NULL
            """);
        command.Parameters.AddWithValue("component", component);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a failure and backs off: 1, 2, 4… minutes after failures in a row, at most half an hour.</summary>
    public async Task FailedAsync(string component, string failure, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO service_status (component, failed_at, failure, failures_in_a_row, retry_after) VALUES (@component, @now, @failure, 1, @now + interval '1 minute')
            ON CONFLICT (component) DO UPDATE SET failed_at = @now, failure = @failure, failures_in_a_row = service_status.failures_in_a_row + 1,
                retry_after = @now + least(make_interval(mins => power(2, least(service_status.failures_in_a_row, 10))::int), @longest)
            """);
        command.Parameters.AddWithValue("component", component);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("failure", failure.Length > 500 ? failure[..500] : failure);
        command.Parameters.AddWithValue("longest", LongestBackOff);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task QuarantinedAsync(string component, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO service_status (component, quarantined, quarantined_at) VALUES (@component, 1, @now)
            ON CONFLICT (component) DO UPDATE SET quarantined = service_status.quarantined + 1, quarantined_at = @now
            """);
        command.Parameters.AddWithValue("component", component);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether a component that kept failing should wait before trying again.</summary>
    public async Task<bool> IsBackingOffAsync(string component, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT retry_after > @now FROM service_status WHERE component = @component");
        command.Parameters.AddWithValue("component", component);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    public async Task<IReadOnlyList<ComponentStatus>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT component, succeeded_at, failed_at, failure, failures_in_a_row, retry_after, quarantined, quarantined_at FROM service_status ORDER BY component
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<ComponentStatus>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new ComponentStatus(reader.GetString(0), Time(reader, 1), Time(reader, 2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt32(4),
                Time(reader, 5), reader.GetInt32(6), Time(reader, 7)));
        }

        return list;
    }

    private static DateTimeOffset? Time(NpgsqlDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetFieldValue<DateTimeOffset>(column);
}
