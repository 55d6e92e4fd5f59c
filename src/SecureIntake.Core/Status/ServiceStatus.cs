using Npgsql;
using SecureIntake.Core.Storage;

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

    public Task SucceededAsync(string component, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync("""
            INSERT INTO service_status (component, succeeded_at) VALUES (@Component, @Now)
            ON CONFLICT (component) DO UPDATE SET succeeded_at = @Now, failures_in_a_row = 0, retry_after = NULL
            """, new { Component = component, Now = clock.GetUtcNow() }, cancellationToken);

    /// <summary>Records a failure and backs off: 1, 2, 4… minutes after failures in a row, at most half an hour.</summary>
    public Task FailedAsync(string component, string failure, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync("""
            INSERT INTO service_status (component, failed_at, failure, failures_in_a_row, retry_after) VALUES (@Component, @Now, @Failure, 1, @Now + interval '1 minute')
            ON CONFLICT (component) DO UPDATE SET failed_at = @Now, failure = @Failure, failures_in_a_row = service_status.failures_in_a_row + 1,
                retry_after = @Now + least(make_interval(mins => power(2, least(service_status.failures_in_a_row, 10))::int), @Longest)
            """, new { Component = component, Now = clock.GetUtcNow(), Failure = failure.Length > 500 ? failure[..500] : failure, Longest = LongestBackOff },
            cancellationToken);

    public Task QuarantinedAsync(string component, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync("""
            INSERT INTO service_status (component, quarantined, quarantined_at) VALUES (@Component, 1, @Now)
            ON CONFLICT (component) DO UPDATE SET quarantined = service_status.quarantined + 1, quarantined_at = @Now
            """, new { Component = component, Now = clock.GetUtcNow() }, cancellationToken);

    /// <summary>Whether a component that kept failing should wait before trying again.</summary>
    public async Task<bool> IsBackingOffAsync(string component, CancellationToken cancellationToken) =>
        await dataSource.ScalarAsync<bool?>("SELECT retry_after > @Now FROM service_status WHERE component = @Component",
            new { Component = component, Now = clock.GetUtcNow() }, cancellationToken) == true;

    public Task<IReadOnlyList<ComponentStatus>> ListAsync(CancellationToken cancellationToken) =>
        dataSource.QueryAsync<ComponentStatus>("""
            SELECT component AS Component, succeeded_at AS SucceededAt, failed_at AS FailedAt, failure AS Failure, failures_in_a_row AS FailuresInARow,
                retry_after AS RetryAfter, quarantined AS Quarantined, quarantined_at AS QuarantinedAt
            FROM service_status ORDER BY component
            """, null, cancellationToken);
}
