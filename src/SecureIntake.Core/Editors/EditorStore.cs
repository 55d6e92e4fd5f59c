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
            throw new EditorRefusedException(EditorRefusal.BadName);
        }

        if (PasswordPolicy.Check(password, name) is { } problem)
        {
            throw new EditorRefusedException(EditorRefusal.PasswordRefused, problem);
        }

        var secret = Totp.NewSecret();
        var hash = await HashAsync(password, cancellationToken).ConfigureAwait(false);
        if (await dataSource.ScalarAsync<Guid?>("""
            INSERT INTO editors (name, role, password_hash, totp_secret, password_set_by_admin, totp_seen_by_admin)
            VALUES (@Name, @Role, @Hash, @Secret, true, true)
            ON CONFLICT (name) DO NOTHING RETURNING id
            """, new { Name = name, Role = RoleText(role), Hash = hash, Secret = secret }, cancellationToken).ConfigureAwait(false) is not { } id)
        {
            throw new EditorRefusedException(EditorRefusal.NameTaken, name);
        }

        await audit.WriteAsync(new AuditEntry(null, null, "editor added", Detail: $"{name} ({RoleText(role)})"), cancellationToken).ConfigureAwait(false);
        return new TwoFactorEnrolment(new Editor(id, name, role, false), secret);
    }

    /// <summary>What the editor must still choose for themselves before the desk opens to them (an admin set or saw it).</summary>
    public async Task<CredentialsDue> CredentialsDueAsync(Guid editorId, CancellationToken cancellationToken) =>
        await dataSource.QuerySingleOrDefaultAsync<CredentialsDue>(
            "SELECT password_set_by_admin AS MustChangePassword, totp_seen_by_admin AS MustEnrolTwoFactor FROM editors WHERE id = @Id", new { Id = editorId },
            cancellationToken).ConfigureAwait(false) ?? new CredentialsDue(false, false);

    public async Task<IReadOnlyList<Editor>> ListAsync(CancellationToken cancellationToken) =>
        (await dataSource.QueryAsync<EditorRow>("SELECT id AS Id, name AS Name, role AS Role, disabled AS Disabled FROM editors ORDER BY name", null,
            cancellationToken).ConfigureAwait(false)).Select(row => row.ToEditor()).ToList();

    /// <summary>Disables the account and ends its sessions at once (browser and desk tool).</summary>
    public async Task DisableAsync(string name, CancellationToken cancellationToken)
    {
        await ChangeAsync(name, "UPDATE editors SET disabled = true WHERE name = @Name RETURNING id", "editor disabled", cancellationToken).ConfigureAwait(false);
    }

    public async Task EnableAsync(string name, CancellationToken cancellationToken)
    {
        await ChangeAsync(name, "UPDATE editors SET disabled = false, failed_sign_ins = 0, locked_until = NULL WHERE name = @Name RETURNING id",
            "editor enabled", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A new TOTP secret (the old authenticator stops working) and the end of every session.</summary>
    public async Task<TwoFactorEnrolment> ResetTwoFactorAsync(string name, CancellationToken cancellationToken)
    {
        var secret = Totp.NewSecret();
        var editor = (await dataSource.QuerySingleOrDefaultAsync<EditorRow>("""
            UPDATE editors SET totp_secret = @Secret, totp_last_step = 0, totp_seen_by_admin = true, pending_totp_secret = NULL
            WHERE name = @Name RETURNING id AS Id, name AS Name, role AS Role, disabled AS Disabled
            """, new { Name = NormalizeName(name), Secret = secret }, cancellationToken).ConfigureAwait(false))?.ToEditor()
            ?? throw new EditorRefusedException(EditorRefusal.NoSuchEditor, NormalizeName(name));
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

        return new SignInResult.SignedIn(account.ToEditor(), account.PasswordSetByAdmin, account.TotpSeenByAdmin);
    }

    /// <summary>
    /// The editor's own new password. The current one is checked (and a wrong one counted as a failed sign-in, so a
    /// left-open session cannot be used to guess it), the new one must pass <see cref="PasswordPolicy"/> and differ from
    /// it. Clears the mark of an admin-set password and ends every session of the editor. Returns what the editor must
    /// still replace (read in the same statement that made the change).
    /// </summary>
    public async Task<CredentialsDue> ChangePasswordAsync(Editor editor, string currentPassword, string newPassword, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(editor);
        ArgumentNullException.ThrowIfNull(currentPassword);
        ArgumentNullException.ThrowIfNull(newPassword);
        if (PasswordPolicy.Check(newPassword, editor.Name) is { } problem)
        {
            throw new EditorRefusedException(EditorRefusal.NewPasswordRefused, problem);
        }

        if (string.Equals(currentPassword, newPassword, StringComparison.Ordinal))
        {
            throw new EditorRefusedException(EditorRefusal.PasswordUnchanged);
        }

        var account = await CheckCurrentPasswordAsync(editor, currentPassword, "password change refused", cancellationToken).ConfigureAwait(false);
        var hash = await HashAsync(newPassword, cancellationToken).ConfigureAwait(false);
        var due = await dataSource.QuerySingleOrDefaultAsync<CredentialsDue>("""
            UPDATE editors SET password_hash = @Hash, password_set_by_admin = false WHERE id = @Id AND password_hash = @Old AND NOT disabled
            RETURNING password_set_by_admin AS MustChangePassword, totp_seen_by_admin AS MustEnrolTwoFactor
            """, new { account.Id, Hash = hash, Old = account.PasswordHash }, cancellationToken).ConfigureAwait(false)
            ?? throw new EditorRefusedException(EditorRefusal.PasswordChangedMeanwhile);

        await EndSessionsAsync(account.Id, cancellationToken).ConfigureAwait(false);
        await AuditSignInAsync(account.Id, account.Name, "password changed", "by the editor; their sessions ended", cancellationToken).ConfigureAwait(false);
        return due;
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
        if (PasswordPolicy.Check(newPassword, name) is { } problem)
        {
            throw new EditorRefusedException(EditorRefusal.PasswordRefused, problem);
        }

        var hash = await HashAsync(newPassword, cancellationToken).ConfigureAwait(false);
        if (await dataSource.ScalarAsync<Guid?>("""
            UPDATE editors SET password_hash = @Hash, password_set_by_admin = true, failed_sign_ins = 0, locked_until = NULL
            WHERE name = @Name RETURNING id
            """, new { Name = name, Hash = hash }, cancellationToken).ConfigureAwait(false) is not { } id)
        {
            throw new EditorRefusedException(EditorRefusal.NoSuchEditor, name);
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
        await dataSource.ExecuteAsync("UPDATE editors SET pending_totp_secret = @Secret WHERE id = @Id", new { account.Id, Secret = secret }, cancellationToken)
            .ConfigureAwait(false);

        await AuditSignInAsync(account.Id, account.Name, "second factor enrolment begun", "", cancellationToken).ConfigureAwait(false);
        return new TwoFactorEnrolment(account.ToEditor(), secret);
    }

    /// <summary>
    /// Makes the pending authenticator the editor's only one, once a code from it matches; a wrong code changes
    /// nothing (the old authenticator still works, and the pending one can still be confirmed). Ends every session.
    /// Returns what the editor must still replace.
    /// </summary>
    public async Task<CredentialsDue> ConfirmTwoFactorEnrolmentAsync(Editor editor, string code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(editor);
        ArgumentNullException.ThrowIfNull(code);
        var pending = await dataSource.ScalarAsync<byte[]>("SELECT pending_totp_secret FROM editors WHERE id = @Id AND NOT disabled", new { editor.Id },
            cancellationToken).ConfigureAwait(false)
            ?? throw new EditorRefusedException(EditorRefusal.NoPendingEnrolment);

        if (Totp.Verify(pending, code, clock.GetUtcNow(), -1) is not { } step)
        {
            await AuditSignInAsync(editor.Id, editor.Name, "second factor enrolment refused", "wrong code from the new authenticator", cancellationToken)
                .ConfigureAwait(false);
            throw new EditorRefusedException(EditorRefusal.WrongEnrolmentCode);
        }

        // The confirming code counts as used, so it cannot also sign someone in.
        var due = await dataSource.QuerySingleOrDefaultAsync<CredentialsDue>("""
            UPDATE editors SET totp_secret = pending_totp_secret, pending_totp_secret = NULL, totp_last_step = @Step, totp_seen_by_admin = false
            WHERE id = @Id AND pending_totp_secret = @Pending AND NOT disabled
            RETURNING password_set_by_admin AS MustChangePassword, totp_seen_by_admin AS MustEnrolTwoFactor
            """, new { editor.Id, Pending = pending, Step = step }, cancellationToken).ConfigureAwait(false)
            ?? throw new EditorRefusedException(EditorRefusal.EnrolmentRestarted);

        await EndSessionsAsync(editor.Id, cancellationToken).ConfigureAwait(false);
        await AuditSignInAsync(editor.Id, editor.Name, "second factor re-enrolled", "by the editor; the old authenticator stopped working; their sessions ended",
            cancellationToken).ConfigureAwait(false);
        return due;
    }

    /// <summary>Where the editor is told about new activity, and the fingerprint of their own key that mail is encrypted to.</summary>
    public async Task SetNotificationAsync(string name, string? email, string? keyFingerprint, CancellationToken cancellationToken)
    {
        if (email is not null && !System.Text.RegularExpressions.Regex.IsMatch(email, @"^[^@\s]+@[^@\s]+$"))
        {
            throw new EditorRefusedException(EditorRefusal.BadEmail, email);
        }

        if (await dataSource.ExecuteAsync("UPDATE editors SET notify_email = @Email, key_fingerprint = @Fingerprint WHERE name = @Name",
            new { Name = NormalizeName(name), Email = email, Fingerprint = keyFingerprint?.ToUpperInvariant() }, cancellationToken).ConfigureAwait(false) != 1)
        {
            throw new EditorRefusedException(EditorRefusal.NoSuchEditor, NormalizeName(name));
        }
    }

    /// <summary>Active editors who asked to be told about new activity, with their key's fingerprint if they gave one.</summary>
    public async Task<IReadOnlyList<(string Name, string Email, string? KeyFingerprint)>> NotificationRecipientsAsync(CancellationToken cancellationToken) =>
        (await dataSource.QueryAsync<NotificationRow>("""
            SELECT name AS Name, notify_email AS Email, key_fingerprint AS KeyFingerprint FROM editors WHERE NOT disabled AND notify_email IS NOT NULL ORDER BY name
            """, null, cancellationToken).ConfigureAwait(false)).Select(row => (row.Name, row.Email, row.KeyFingerprint)).ToList();

    public void Dispose() => _hashing.Dispose();

    internal static string RoleText(EditorRole role) => role == EditorRole.Admin ? "admin" : "editor";

    internal static EditorRole ParseRole(string role) => role == "admin" ? EditorRole.Admin : EditorRole.Editor;

    /// <summary>Records the accepted step only if no newer one was used meanwhile: a code works once, even when raced.</summary>
    private async Task<bool> ClaimStepAsync(Guid editorId, long step, CancellationToken cancellationToken)
    {
        return await dataSource.ExecuteAsync("""
            UPDATE editors SET totp_last_step = @Step, failed_sign_ins = 0, locked_until = NULL
            WHERE id = @Id AND totp_last_step < @Step AND NOT disabled
            """, new { Id = editorId, Step = step }, cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>
    /// Counts the attempt as failed and decides the lock-out in one statement, before any password or code is
    /// checked: parallel guesses each take their own place in the count, and a locked account matches no row.
    /// A sign-in that then succeeds clears the count (<see cref="ClaimStepAsync"/>). Null: unknown or locked.
    /// </summary>
    private async Task<Account?> ClaimAttemptAsync(string name, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // 1, 2, 4... minutes from the fifth failure in a row on, at most an hour (the exponent is capped so it cannot overflow).
        return await dataSource.QuerySingleOrDefaultAsync<Account>("""
            UPDATE editors SET failed_sign_ins = failed_sign_ins + 1,
                locked_until = CASE WHEN failed_sign_ins + 1 >= @Threshold
                    THEN @Now + LEAST(power(2, LEAST(failed_sign_ins + 1 - @Threshold, 16)), @Longest) * interval '1 minute' END
            WHERE name = @Name AND (locked_until IS NULL OR locked_until <= @Now)
            RETURNING id AS Id, name AS Name, role AS Role, password_hash AS PasswordHash, totp_secret AS TotpSecret, totp_last_step AS TotpLastStep,
                disabled AS Disabled, locked_until AS LockedUntil, password_set_by_admin AS PasswordSetByAdmin, totp_seen_by_admin AS TotpSeenByAdmin
            """, new { Name = name, Now = now, Threshold = FailuresBeforeLockout, Longest = LongestLockout.TotalMinutes }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// An unknown name still costs a full hash, so timing does not tell which names exist; a locked account is
    /// refused at once. Neither is counted, and each is audited at most once a period (see <see cref="SignInAuditThrottle"/>).
    /// </summary>
    private async Task<SignInResult> RefuseUncheckedAsync(string name, string password, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var locked = await dataSource.QuerySingleOrDefaultAsync<LockRow>("SELECT id AS Id, locked_until AS LockedUntil FROM editors WHERE name = @Name",
            new { Name = name }, cancellationToken).ConfigureAwait(false);
        if (locked is { Id: var editorId })
        {
            // Unlocked meanwhile (an admin enabled the account): still refused, as the attempt was made while locked.
            var until = locked.LockedUntil ?? now;
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
            throw new EditorRefusedException(EditorRefusal.LockedOrDisabled);
        }

        if (!await VerifyAsync(password, account.PasswordHash, cancellationToken).ConfigureAwait(false))
        {
            await AuditSignInAsync(account.Id, account.Name, refusedAction, "wrong current password", cancellationToken).ConfigureAwait(false);
            throw new EditorRefusedException(EditorRefusal.WrongCurrentPassword);
        }

        await dataSource.ExecuteAsync("UPDATE editors SET failed_sign_ins = 0, locked_until = NULL WHERE id = @Id", new { account.Id }, cancellationToken)
            .ConfigureAwait(false);
        return account;
    }

    /// <summary>
    /// Stores a hash at today's cost of the password sign-in has just verified, unless it was changed meanwhile:
    /// raising the cost settings then reaches every editor who signs in, not only new passwords.
    /// </summary>
    private async Task UpgradeHashAsync(Account account, string password, CancellationToken cancellationToken)
    {
        var hash = await HashAsync(password, cancellationToken).ConfigureAwait(false);
        if (await dataSource.ExecuteAsync("UPDATE editors SET password_hash = @Hash WHERE id = @Id AND password_hash = @Old",
            new { account.Id, Hash = hash, Old = account.PasswordHash }, cancellationToken).ConfigureAwait(false) == 1)
        {
            await AuditSignInAsync(account.Id, account.Name, "password hash upgraded", "to the current cost settings", cancellationToken).ConfigureAwait(false);
        }
    }

    private Task AuditSignInAsync(Guid editorId, string name, string action, string detail, CancellationToken cancellationToken) =>
        audit.WriteAsync(new AuditEntry(editorId, name, action, Detail: detail), cancellationToken);

    private async Task ChangeAsync(string name, string sql, string action, CancellationToken cancellationToken)
    {
        if (await dataSource.ScalarAsync<Guid?>(sql, new { Name = NormalizeName(name) }, cancellationToken).ConfigureAwait(false) is not { } id)
        {
            throw new EditorRefusedException(EditorRefusal.NoSuchEditor, NormalizeName(name));
        }

        await EndSessionsAsync(id, cancellationToken).ConfigureAwait(false);
        await audit.WriteAsync(new AuditEntry(null, null, action, Detail: NormalizeName(name)), cancellationToken).ConfigureAwait(false);
    }

    private async Task EndSessionsAsync(Guid editorId, CancellationToken cancellationToken)
    {
        await dataSource.ExecuteAsync("DELETE FROM desk_sessions WHERE editor_id = @Id", new { Id = editorId }, cancellationToken).ConfigureAwait(false);
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

    // Rows hold the role as stored, a word ('admin', 'editor'); ParseRole is the one place that reads it.
    private sealed record Account(Guid Id, string Name, string Role, string PasswordHash, byte[] TotpSecret, long TotpLastStep, bool Disabled,
        DateTimeOffset? LockedUntil, bool PasswordSetByAdmin, bool TotpSeenByAdmin)
    {
        /// <summary>The account as signed in: a disabled one never gets this far.</summary>
        public Editor ToEditor() => new(Id, Name, ParseRole(Role), false);
    }

    private sealed record EditorRow(Guid Id, string Name, string Role, bool Disabled)
    {
        public Editor ToEditor() => new(Id, Name, ParseRole(Role), Disabled);
    }

    private sealed record LockRow(Guid Id, DateTimeOffset? LockedUntil);

    private sealed record NotificationRow(string Name, string Email, string? KeyFingerprint);
}
