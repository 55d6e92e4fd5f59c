using System.Security.Cryptography;
using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Editors;

public enum EditorRole
{
    Editor,
    Admin,
}

public sealed record Editor(Guid Id, string Name, EditorRole Role, bool Disabled);

/// <summary>
/// A new second factor: for a new editor or a reset, shown to the admin once and never again (and the editor must then
/// enrol one of their own); for a re-enrolment, shown only to the editor, pending until they confirm a code from it.
/// </summary>
public sealed record TwoFactorEnrolment(Editor Editor, byte[] TotpSecret)
{
    public string ProvisioningUri(string issuer) => Totp.ProvisioningUri(issuer, Editor.Name, TotpSecret);
}

/// <summary>Which of an editor's credentials an admin set or saw, and so the editor must replace with their own.</summary>
public sealed record CredentialsDue(bool MustChangePassword, bool MustEnrolTwoFactor)
{
    public bool Any => MustChangePassword || MustEnrolTwoFactor;
}

public abstract record SignInResult
{
    /// <summary>
    /// Signed in. When an admin set the password, or was shown the TOTP secret, the editor must first choose their own
    /// password (<see cref="EditorStore.ChangePasswordAsync"/>) and enrol a new authenticator
    /// (<see cref="EditorStore.BeginTwoFactorEnrolmentAsync"/>): until then an admin could sign in as them.
    /// </summary>
    public sealed record SignedIn(Editor Editor, bool MustChangePassword = false, bool MustEnrolTwoFactor = false) : SignInResult
    {
        public bool MustRenewCredentials => MustChangePassword || MustEnrolTwoFactor;
    }

    /// <summary>Wrong name, password or code, or a disabled account: the editor is not told which.</summary>
    public sealed record Refused : SignInResult;

    public sealed record LockedOut(DateTimeOffset Until) : SignInResult;
}

/// <summary>
/// Editor accounts: password (Argon2id) plus a TOTP code that is required, never optional, and never
/// accepted twice. Failed attempts lock the account for a growing while. Every sign-in and every checked
/// failure is audited; refusals that check nothing (a locked account, an unknown name) are audited sparingly,
/// so guessing cannot flood the audit log.
/// An editor owns their credentials: an admin can set a password or reset the second factor, but the editor is then
/// told at sign-in to replace them. Every change of a password or second factor ends all of the editor's sessions
/// (browser and desk tool, the one that made the change included): the caller starts a fresh session for the editor
/// it is serving, so a session id never outlives the credentials it was issued under.
/// </summary>
public sealed class EditorStore(NpgsqlDataSource dataSource, PasswordHasher hasher, AuditLog audit, TimeProvider clock) : IDisposable
{
    public const int FailuresBeforeLockout = 5;
    public static readonly TimeSpan LongestLockout = TimeSpan.FromHours(1);

    // Password hashes are memory-hard; more at once than cores only queues them up in memory.
    private readonly SemaphoreSlim _hashing = new(Math.Max(1, Environment.ProcessorCount));

    private readonly SignInAuditThrottle _auditThrottle = new();

    private readonly Lazy<string> _decoyHash = new(() => hasher.Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));

    public static string NormalizeName(string name) => name.Trim().ToLowerInvariant();

    public async Task<TwoFactorEnrolment> AddAsync(string name, EditorRole role, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(password);
        name = NormalizeName(name);
        if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z0-9][a-z0-9._-]{0,62}$"))
        {
            throw new EditorRefusedException("a name is 1 to 63 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");
        }

        if (PasswordPolicy.Problem(password, name) is { } problem)
        {
            throw new EditorRefusedException($"the password is refused: {problem}");
        }

        var secret = Totp.NewSecret();
        var hash = await HashAsync(password, cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO editors (name, role, password_hash, totp_secret, password_set_by_admin, totp_seen_by_admin)
            VALUES (@name, @role, @hash, @secret, true, true)
            ON CONFLICT (name) DO NOTHING RETURNING id
            """);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("role", RoleText(role));
        command.Parameters.AddWithValue("hash", hash);
        command.Parameters.AddWithValue("secret", secret);
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not Guid id)
        {
            throw new EditorRefusedException($"there is already an editor named '{name}'");
        }

        await audit.WriteAsync(new AuditEntry(null, null, "editor added", Detail: $"{name} ({RoleText(role)})"), cancellationToken).ConfigureAwait(false);
        return new TwoFactorEnrolment(new Editor(id, name, role, false), secret);
    }

    /// <summary>What the editor must still choose for themselves before the desk opens to them (an admin set or saw it).</summary>
    public async Task<CredentialsDue> CredentialsDueAsync(Guid editorId, CancellationToken cancellationToken) =>
        await dataSource.QuerySingleOrDefaultAsync<CredentialsDue>(
            "SELECT password_set_by_admin AS MustChangePassword, totp_seen_by_admin AS MustEnrolTwoFactor FROM editors WHERE id = @Id", new { Id = editorId },
            cancellationToken).ConfigureAwait(false) ?? new CredentialsDue(false, false);

    public async Task<IReadOnlyList<Editor>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT id, name, role, disabled FROM editors ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var editors = new List<Editor>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            editors.Add(new Editor(reader.GetGuid(0), reader.GetString(1), ParseRole(reader.GetString(2)), reader.GetBoolean(3)));
        }

        return editors;
    }

    /// <summary>Disables the account and ends its sessions at once (browser and desk tool).</summary>
    public async Task DisableAsync(string name, CancellationToken cancellationToken)
    {
        await ChangeAsync(name, "UPDATE editors SET disabled = true WHERE name = @name RETURNING id", "editor disabled", cancellationToken).ConfigureAwait(false);
    }

    public async Task EnableAsync(string name, CancellationToken cancellationToken)
    {
        await ChangeAsync(name, "UPDATE editors SET disabled = false, failed_sign_ins = 0, locked_until = NULL WHERE name = @name RETURNING id",
            "editor enabled", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A new TOTP secret (the old authenticator stops working) and the end of every session.</summary>
    public async Task<TwoFactorEnrolment> ResetTwoFactorAsync(string name, CancellationToken cancellationToken)
    {
        var secret = Totp.NewSecret();
        await using var command = dataSource.CreateCommand("""
            UPDATE editors SET totp_secret = @secret, totp_last_step = 0, totp_seen_by_admin = true, pending_totp_secret = NULL
            WHERE name = @name RETURNING id, role, disabled
            """);
        command.Parameters.AddWithValue("name", NormalizeName(name));
        command.Parameters.AddWithValue("secret", secret);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new EditorRefusedException($"there is no editor named '{NormalizeName(name)}'");
        }

        var editor = new Editor(reader.GetGuid(0), NormalizeName(name), ParseRole(reader.GetString(1)), reader.GetBoolean(2));
        await reader.DisposeAsync().ConfigureAwait(false);
        await EndSessionsAsync(editor.Id, cancellationToken).ConfigureAwait(false);
        await audit.WriteAsync(new AuditEntry(null, null, "editor second factor reset", Detail: editor.Name), cancellationToken).ConfigureAwait(false);
        return new TwoFactorEnrolment(editor, secret);
    }

    public async Task<SignInResult> SignInAsync(string name, string password, string code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(code);
        name = NormalizeName(name);
        var now = clock.GetUtcNow();
        var account = await ClaimAttemptAsync(name, now, cancellationToken).ConfigureAwait(false);
        if (account is null)
        {
            return await RefuseUncheckedAsync(name, password, now, cancellationToken).ConfigureAwait(false);
        }

        var passwordOk = await VerifyAsync(password, account.PasswordHash, cancellationToken).ConfigureAwait(false);
        var step = passwordOk ? Totp.Verify(account.TotpSecret, code, now, account.TotpLastStep) : null;
        if (!passwordOk || step is null || account.Disabled || !await ClaimStepAsync(account.Id, step.Value, cancellationToken).ConfigureAwait(false))
        {
            var reason = !passwordOk ? "wrong password" : account.Disabled ? "account disabled" : "wrong or reused code";
            var detail = account.LockedUntil is { } until ? $"{reason}; account locked until {until.UtcDateTime:yyyy-MM-dd HH:mm} UTC" : reason;
            await AuditSignInAsync(account.Id, account.Name, "sign-in refused", detail, cancellationToken).ConfigureAwait(false);
            return new SignInResult.Refused();
        }

        await AuditSignInAsync(account.Id, account.Name, "signed in", "", cancellationToken).ConfigureAwait(false);
        if (hasher.NeedsRehash(account.PasswordHash))
        {
            await UpgradeHashAsync(account, password, cancellationToken).ConfigureAwait(false);
        }

        return new SignInResult.SignedIn(new Editor(account.Id, account.Name, account.Role, false), account.PasswordSetByAdmin, account.TotpSeenByAdmin);
    }

    /// <summary>
    /// The editor's own new password. The current one is checked (and a wrong one counted as a failed sign-in, so a
    /// left-open session cannot be used to guess it), the new one must pass <see cref="PasswordPolicy"/> and differ from
    /// it. Clears the mark of an admin-set password and ends every session of the editor.
    /// </summary>
    public async Task ChangePasswordAsync(Editor editor, string currentPassword, string newPassword, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(editor);
        ArgumentNullException.ThrowIfNull(currentPassword);
        ArgumentNullException.ThrowIfNull(newPassword);
        if (PasswordPolicy.Problem(newPassword, editor.Name) is { } problem)
        {
            throw new EditorRefusedException($"the new password is refused: {problem}");
        }

        if (string.Equals(currentPassword, newPassword, StringComparison.Ordinal))
        {
            throw new EditorRefusedException("the new password must differ from the current one");
        }

        var account = await CheckCurrentPasswordAsync(editor, currentPassword, "password change refused", cancellationToken).ConfigureAwait(false);
        var hash = await HashAsync(newPassword, cancellationToken).ConfigureAwait(false);
        await using (var command = dataSource.CreateCommand("""
            UPDATE editors SET password_hash = @hash, password_set_by_admin = false WHERE id = @id AND password_hash = @old AND NOT disabled
            """))
        {
            command.Parameters.AddWithValue("id", account.Id);
            command.Parameters.AddWithValue("hash", hash);
            command.Parameters.AddWithValue("old", account.PasswordHash);
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
            {
                throw new EditorRefusedException("the password was changed meanwhile; sign in again");
            }
        }

        await EndSessionsAsync(account.Id, cancellationToken).ConfigureAwait(false);
        await AuditSignInAsync(account.Id, account.Name, "password changed", "by the editor; their sessions ended", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// An admin sets an editor's password (say, it was forgotten): the lock-out is cleared, sessions end, and at the
    /// next sign-in the editor is told to choose their own, since the admin knows this one.
    /// </summary>
    public async Task SetPasswordByAdminAsync(string name, string newPassword, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(newPassword);
        name = NormalizeName(name);
        if (PasswordPolicy.Problem(newPassword, name) is { } problem)
        {
            throw new EditorRefusedException($"the password is refused: {problem}");
        }

        var hash = await HashAsync(newPassword, cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand("""
            UPDATE editors SET password_hash = @hash, password_set_by_admin = true, failed_sign_ins = 0, locked_until = NULL
            WHERE name = @name RETURNING id
            """);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("hash", hash);
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not Guid id)
        {
            throw new EditorRefusedException($"there is no editor named '{name}'");
        }

        await EndSessionsAsync(id, cancellationToken).ConfigureAwait(false);
        await audit.WriteAsync(new AuditEntry(null, null, "editor password set by admin", Detail: $"{name}; their sessions ended"), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Starts replacing the editor's authenticator: a new secret, shown to them once and kept pending. The current one
    /// keeps working until <see cref="ConfirmTwoFactorEnrolmentAsync"/> accepts a code from the new one. The current
    /// password is asked for, so a session left open cannot be used to take over the second factor.
    /// </summary>
    public async Task<TwoFactorEnrolment> BeginTwoFactorEnrolmentAsync(Editor editor, string currentPassword, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(editor);
        ArgumentNullException.ThrowIfNull(currentPassword);
        var account = await CheckCurrentPasswordAsync(editor, currentPassword, "second factor enrolment refused", cancellationToken).ConfigureAwait(false);
        var secret = Totp.NewSecret();
        await using (var command = dataSource.CreateCommand("UPDATE editors SET pending_totp_secret = @secret WHERE id = @id"))
        {
            command.Parameters.AddWithValue("id", account.Id);
            command.Parameters.AddWithValue("secret", secret);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await AuditSignInAsync(account.Id, account.Name, "second factor enrolment begun", "", cancellationToken).ConfigureAwait(false);
        return new TwoFactorEnrolment(new Editor(account.Id, account.Name, account.Role, false), secret);
    }

    /// <summary>
    /// Makes the pending authenticator the editor's only one, once a code from it matches; a wrong code changes
    /// nothing (the old authenticator still works, and the pending one can still be confirmed). Ends every session.
    /// </summary>
    public async Task ConfirmTwoFactorEnrolmentAsync(Editor editor, string code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(editor);
        ArgumentNullException.ThrowIfNull(code);
        byte[] pending;
        await using (var select = dataSource.CreateCommand("SELECT pending_totp_secret FROM editors WHERE id = @id AND NOT disabled"))
        {
            select.Parameters.AddWithValue("id", editor.Id);
            if (await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not byte[] found)
            {
                throw new EditorRefusedException("no new authenticator is waiting to be confirmed; start the enrolment again");
            }

            pending = found;
        }

        if (Totp.Verify(pending, code, clock.GetUtcNow(), -1) is not { } step)
        {
            await AuditSignInAsync(editor.Id, editor.Name, "second factor enrolment refused", "wrong code from the new authenticator", cancellationToken)
                .ConfigureAwait(false);
            throw new EditorRefusedException("the code does not match the new authenticator; the old one still works");
        }

        // The confirming code counts as used, so it cannot also sign someone in.
        await using (var update = dataSource.CreateCommand("""
            UPDATE editors SET totp_secret = pending_totp_secret, pending_totp_secret = NULL, totp_last_step = @step, totp_seen_by_admin = false
            WHERE id = @id AND pending_totp_secret = @pending AND NOT disabled
            """))
        {
            update.Parameters.AddWithValue("id", editor.Id);
            update.Parameters.AddWithValue("pending", pending);
            update.Parameters.AddWithValue("step", step);
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
            {
                throw new EditorRefusedException("the enrolment was started again meanwhile; use the newest secret");
            }
        }

        await EndSessionsAsync(editor.Id, cancellationToken).ConfigureAwait(false);
        await AuditSignInAsync(editor.Id, editor.Name, "second factor re-enrolled", "by the editor; the old authenticator stopped working; their sessions ended",
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Where the editor is told about new activity, and the fingerprint of their own key that mail is encrypted to.</summary>
    public async Task SetNotificationAsync(string name, string? email, string? keyFingerprint, CancellationToken cancellationToken)
    {
        if (email is not null && !System.Text.RegularExpressions.Regex.IsMatch(email, @"^[^@\s]+@[^@\s]+$"))
        {
            throw new EditorRefusedException($"'{email}' is not an email address");
        }

        await using var command = dataSource.CreateCommand("UPDATE editors SET notify_email = @email, key_fingerprint = @fingerprint WHERE name = @name");
        command.Parameters.AddWithValue("name", NormalizeName(name));
        command.Parameters.AddWithValue("email", (object?)email ?? DBNull.Value);
        command.Parameters.AddWithValue("fingerprint", (object?)keyFingerprint?.ToUpperInvariant() ?? DBNull.Value);
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
        {
            throw new EditorRefusedException($"there is no editor named '{NormalizeName(name)}'");
        }
    }

    /// <summary>Active editors who asked to be told about new activity, with their key's fingerprint if they gave one.</summary>
    public async Task<IReadOnlyList<(string Name, string Email, string? KeyFingerprint)>> NotificationRecipientsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT name, notify_email, key_fingerprint FROM editors WHERE NOT disabled AND notify_email IS NOT NULL ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<(string, string, string?)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add((reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return list;
    }

    public void Dispose() => _hashing.Dispose();

    internal static string RoleText(EditorRole role) => role == EditorRole.Admin ? "admin" : "editor";

    internal static EditorRole ParseRole(string role) => role == "admin" ? EditorRole.Admin : EditorRole.Editor;

    /// <summary>Records the accepted step only if no newer one was used meanwhile: a code works once, even when raced.</summary>
    private async Task<bool> ClaimStepAsync(Guid editorId, long step, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE editors SET totp_last_step = @step, failed_sign_ins = 0, locked_until = NULL
            WHERE id = @id AND totp_last_step < @step AND NOT disabled
            """);
        command.Parameters.AddWithValue("id", editorId);
        command.Parameters.AddWithValue("step", step);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>
    /// Counts the attempt as failed and decides the lock-out in one statement, before any password or code is
    /// checked: parallel guesses each take their own place in the count, and a locked account matches no row.
    /// A sign-in that then succeeds clears the count (<see cref="ClaimStepAsync"/>). Null: unknown or locked.
    /// </summary>
    private async Task<Account?> ClaimAttemptAsync(string name, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // 1, 2, 4... minutes from the fifth failure in a row on, at most an hour (the exponent is capped so it cannot overflow).
        await using var command = dataSource.CreateCommand("""
            UPDATE editors SET failed_sign_ins = failed_sign_ins + 1,
                locked_until = CASE WHEN failed_sign_ins + 1 >= @threshold
                    THEN @now + LEAST(power(2, LEAST(failed_sign_ins + 1 - @threshold, 16)), @longest) * interval '1 minute' END
            WHERE name = @name AND (locked_until IS NULL OR locked_until <= @now)
            RETURNING id, role, password_hash, totp_secret, totp_last_step, disabled, locked_until, password_set_by_admin, totp_seen_by_admin
            """);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("threshold", FailuresBeforeLockout);
        command.Parameters.AddWithValue("longest", LongestLockout.TotalMinutes);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new Account(reader.GetGuid(0), name, ParseRole(reader.GetString(1)), reader.GetString(2), reader.GetFieldValue<byte[]>(3),
            reader.GetInt64(4), reader.GetBoolean(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6), reader.GetBoolean(7), reader.GetBoolean(8));
    }

    /// <summary>
    /// An unknown name still costs a full hash, so timing does not tell which names exist; a locked account is
    /// refused at once. Neither is counted, and each is audited at most once a period (see <see cref="SignInAuditThrottle"/>).
    /// </summary>
    private async Task<SignInResult> RefuseUncheckedAsync(string name, string password, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT id, locked_until FROM editors WHERE name = @name");
        command.Parameters.AddWithValue("name", name);
        Guid? id = null;
        DateTimeOffset? lockedUntil = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                id = reader.GetGuid(0);
                lockedUntil = reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1);
            }
        }

        if (id is { } editorId)
        {
            // Unlocked meanwhile (an admin enabled the account): still refused, as the attempt was made while locked.
            var until = lockedUntil ?? now;
            if (_auditThrottle.IsFirst(editorId, until))
            {
                await AuditSignInAsync(editorId, name, "sign-in refused",
                    $"account locked until {until.UtcDateTime:yyyy-MM-dd HH:mm} UTC; further attempts until then are refused without being logged",
                    cancellationToken).ConfigureAwait(false);
            }

            return new SignInResult.LockedOut(until);
        }

        await VerifyAsync(password, _decoyHash.Value, cancellationToken).ConfigureAwait(false);
        if (_auditThrottle.IsFirst(Guid.Empty, SignInAuditThrottle.EndOfMinute(now)))
        {
            // The typed name is not logged: people type passwords into name fields.
            await audit.WriteAsync(new AuditEntry(null, null, "sign-in refused", Detail: "unknown account; further ones this minute are not logged"),
                cancellationToken).ConfigureAwait(false);
        }

        return new SignInResult.Refused();
    }

    /// <summary>
    /// Checks a signed-in editor's current password the way sign-in does: counted before it is checked, refused
    /// while the account is locked, and audited when wrong.
    /// </summary>
    private async Task<Account> CheckCurrentPasswordAsync(Editor editor, string password, string refusedAction, CancellationToken cancellationToken)
    {
        var account = await ClaimAttemptAsync(editor.Name, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (account is null || account.Id != editor.Id || account.Disabled)
        {
            throw new EditorRefusedException("too many failed attempts, or the account is disabled: try again later");
        }

        if (!await VerifyAsync(password, account.PasswordHash, cancellationToken).ConfigureAwait(false))
        {
            await AuditSignInAsync(account.Id, account.Name, refusedAction, "wrong current password", cancellationToken).ConfigureAwait(false);
            throw new EditorRefusedException("the current password is wrong");
        }

        await using var clear = dataSource.CreateCommand("UPDATE editors SET failed_sign_ins = 0, locked_until = NULL WHERE id = @id");
        clear.Parameters.AddWithValue("id", account.Id);
        await clear.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return account;
    }

    /// <summary>
    /// Stores a hash at today's cost of the password sign-in has just verified, unless it was changed meanwhile:
    /// raising the cost settings then reaches every editor who signs in, not only new passwords.
    /// </summary>
    private async Task UpgradeHashAsync(Account account, string password, CancellationToken cancellationToken)
    {
        var hash = await HashAsync(password, cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand("UPDATE editors SET password_hash = @hash WHERE id = @id AND password_hash = @old");
        command.Parameters.AddWithValue("id", account.Id);
        command.Parameters.AddWithValue("hash", hash);
        command.Parameters.AddWithValue("old", account.PasswordHash);
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
        {
            await AuditSignInAsync(account.Id, account.Name, "password hash upgraded", "to the current cost settings", cancellationToken).ConfigureAwait(false);
        }
    }

    private Task AuditSignInAsync(Guid editorId, string name, string action, string detail, CancellationToken cancellationToken) =>
        audit.WriteAsync(new AuditEntry(editorId, name, action, Detail: detail), cancellationToken);

    private async Task ChangeAsync(string name, string sql, string action, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("name", NormalizeName(name));
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not Guid id)
        {
            throw new EditorRefusedException($"there is no editor named '{NormalizeName(name)}'");
        }

        await EndSessionsAsync(id, cancellationToken).ConfigureAwait(false);
        await audit.WriteAsync(new AuditEntry(null, null, action, Detail: NormalizeName(name)), cancellationToken).ConfigureAwait(false);
    }

    private async Task EndSessionsAsync(Guid editorId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM desk_sessions WHERE editor_id = @id");
        command.Parameters.AddWithValue("id", editorId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> HashAsync(string password, CancellationToken cancellationToken)
    {
        await _hashing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return hasher.Hash(password);
        }
        finally
        {
            _hashing.Release();
        }
    }

    private async Task<bool> VerifyAsync(string password, string encoded, CancellationToken cancellationToken)
    {
        await _hashing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return hasher.Verify(password, encoded);
        }
        finally
        {
            _hashing.Release();
        }
    }

    private sealed record Account(Guid Id, string Name, EditorRole Role, string PasswordHash, byte[] TotpSecret, long TotpLastStep, bool Disabled,
        DateTimeOffset? LockedUntil, bool PasswordSetByAdmin, bool TotpSeenByAdmin);
}

public sealed class EditorRefusedException(string message) : Exception(message);
