using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Npgsql;
using SecureIntake.Server.Tests.Witness;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.CommandLine;

/// <summary>Secrets read from files (as systemd credentials are handed over), and refused as command-line arguments.</summary>
[Collection(ServerTestKeysGroup.Name)]
public sealed class SecretFilesTests(ServerTestKeys keys) : IDisposable
{
    private const string Secret = "s3cret-that-must-never-be-printed";
    private readonly TemporaryDirectory _files = new("si-secret-files-");

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task A_pepper_read_from_a_file_makes_the_same_codenames_as_the_pepper_itself()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Usable)).EnsureSuccess("keys add");
        var pepper = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var pepperFile = await WriteSecretAsync("pepper", pepper + "\n");

        string codename;
        await using (var fromFile = await SecureIntakeCli.StartReadyAsync(() =>
            StartWeb(database, new() { ["SECUREINTAKE_Codenames__Pepper"] = "" }, $"--Codenames:PepperFile={pepperFile}")))
        {
            using var witness = WitnessForms.NewBrowserlikeClient(fromFile.Address);
            using var received = await witness.PostAsync(new Uri("/en/submit", UriKind.Relative),
                WitnessForms.Multipart(await WitnessForms.TokenAsync(witness), "sent while the pepper came from a file"));
            var page = await received.Content.ReadAsStringAsync();
            Assert.True(received.StatusCode == HttpStatusCode.OK, page);
            codename = ReturnTests.CodenameIn(page);
        }

        // The same pepper given directly finds the thread: the file's content (less its line end) was the pepper.
        await using var direct = await SecureIntakeCli.StartReadyAsync(() => StartWeb(database, new() { ["SECUREINTAKE_Codenames__Pepper"] = pepper }));
        using var returning = WitnessForms.NewBrowserlikeClient(direct.Address);
        using var signIn = await returning.PostAsync(new Uri("/en/return", UriKind.Relative),
            new FormUrlEncodedContent([new("token", await WitnessForms.TokenAsync(returning, "/en/return")), new("codename", codename)]));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/en/thread", signIn.Headers.Location!.ToString());
    }

    [Fact]
    public async Task A_database_password_read_from_a_file_reaches_a_server_that_demands_it()
    {
        await using var cluster = await PasswordClusterAsync("intake", Secret);
        var connectionString = $"Host={cluster.SocketDirectory};Port=5432;Username=intake;Database=intake;Pooling=false";

        var withFile = await RunAsync(connectionString, ["migrate"], ("SECUREINTAKE_Database__PasswordFile", await WriteSecretAsync("db", Secret + "\n")));
        var withoutPassword = await RunAsync(connectionString, ["migrate"]);
        var wrongPassword = await RunAsync(connectionString, ["migrate"], ("SECUREINTAKE_Database__PasswordFile", await WriteSecretAsync("wrong", "not-it")));

        Assert.True(withFile.ExitCode == 0, withFile.Error);
        Assert.Contains("database schema is up to date", withFile.OutputText, StringComparison.Ordinal);
        Assert.Equal(3, withoutPassword.ExitCode);
        Assert.Equal(3, wrongPassword.ExitCode);
        Assert.Contains("password authentication failed", wrongPassword.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, withFile.OutputText + withFile.Error, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> SecretArguments => new()
    {
        { "web", $"--Codenames:Pepper={Secret}", "Codenames:PepperFile" },
        { "all", $"--codenames__pepper={Secret}", "Codenames:PepperFile" },
        { "migrate", $"--Database:ConnectionString=Host=/run/postgresql;Username=intake;Password={Secret}", "Database:PasswordFile" },
        { "worker", $"--Database:ConnectionString=Host=/run/postgresql;Username=intake;PWD={Secret}", "Database:PasswordFile" },
        { "worker", $"--Mail:Imap:Password={Secret}", "Mail:Imap:PasswordFile" },
        { "editors", $"--Mail:Smtp:Password={Secret}", "Mail:Smtp:PasswordFile" },
        { "keys", "--Mail:Smtp:Password", "Mail:Smtp:PasswordFile" },
    };

    [Theory]
    [MemberData(nameof(SecretArguments))]
    public async Task A_secret_given_as_an_argument_is_refused_before_anything_starts(string command, string argument, string fileSetting)
    {
        string[] arguments = command switch
        {
            "editors" => ["editors", "list", argument],
            "keys" => ["keys", "list", argument, Secret],
            _ => [command, argument],
        };

        // A database that does not exist: had anything started, the error would be about it, and the exit code 3.
        var result = await SecureIntakeCli.RunAsync("Host=/nonexistent;Database=x;Username=x;Timeout=2", arguments);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"give its path as {fileSetting}", result.Error, StringComparison.Ordinal);
        Assert.Contains("every local user can read a process's arguments", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Error + result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_string_argument_without_a_password_is_still_taken()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();

        var result = await SecureIntakeCli.RunAsync("Host=/nonexistent", "migrate", $"--Database:ConnectionString={database}");

        Assert.True(result.ExitCode == 0, result.Error);
    }

    [Fact]
    public async Task Ingest_mail_refuses_a_secret_argument_with_try_again_later_so_the_mta_keeps_the_message()
    {
        var result = await SecureIntakeCli.RunWithInputAsync("Host=/nonexistent", "Subject: hi\r\n\r\nhello\r\n", "ingest-mail", $"--Mail:Imap:Password={Secret}");

        Assert.Equal(75, result.ExitCode);
        Assert.Contains("Mail:Imap:PasswordFile", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Error + result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_empty_or_unreadable_secret_file_or_a_secret_given_twice_is_refused_naming_the_setting()
    {
        var missing = await RunAsync(null, ["migrate"], ("SECUREINTAKE_Codenames__PepperFile", _files.File("no-such-file")));
        var empty = await RunAsync(null, ["migrate"], ("SECUREINTAKE_Mail__Smtp__PasswordFile", await WriteSecretAsync("empty", " \n")));
        var directory = await RunAsync(null, ["migrate"], ("SECUREINTAKE_Mail__Imap__PasswordFile", _files.Path));
        var twice = await RunAsync(null, ["migrate"], ("SECUREINTAKE_Codenames__PepperFile", await WriteSecretAsync("pepper", Secret)));
        var twiceInConnectionString = await RunAsync($"Host=/nonexistent;Username=x;Password={Secret}", ["migrate"],
            ("SECUREINTAKE_Database__PasswordFile", await WriteSecretAsync("db", Secret)));

        Assert.All([missing, empty, directory, twice, twiceInConnectionString], result =>
        {
            Assert.Equal(2, result.ExitCode);
            Assert.DoesNotContain(Secret, result.Error + result.OutputText, StringComparison.Ordinal);
        });
        Assert.Contains($"Codenames:PepperFile: '{_files.File("no-such-file")}' does not exist", missing.Error, StringComparison.Ordinal);
        Assert.Contains("Mail:Smtp:PasswordFile: ", empty.Error, StringComparison.Ordinal);
        Assert.Contains("is empty", empty.Error, StringComparison.Ordinal);
        Assert.Contains("Mail:Imap:PasswordFile: ", directory.Error, StringComparison.Ordinal);
        Assert.Contains("cannot be read", directory.Error, StringComparison.Ordinal);
        Assert.Contains("both Codenames:Pepper and Codenames:PepperFile are set", twice.Error, StringComparison.Ordinal);
        Assert.Contains("Database:ConnectionString holds a password and Database:PasswordFile is set too", twiceInConnectionString.Error, StringComparison.Ordinal);
    }

    private async Task<string> WriteSecretAsync(string name, string content)
    {
        var path = _files.File(name);
        await File.WriteAllTextAsync(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static Task<ToolResult> RunAsync(string? connectionString, string[] arguments, params (string Name, string Value)[] environment)
    {
        var variables = SecureIntakeCli.EnvironmentFor(connectionString);
        foreach (var (name, value) in environment)
        {
            variables[name] = value;
        }

        return ExternalTool.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "secureintake.dll"), .. arguments], environment: variables,
            timeout: TimeSpan.FromMinutes(2));
    }

    /// <summary>Like <see cref="SecureIntakeCli.Start"/>, with some of the environment replaced.</summary>
    private static RunningService StartWeb(string connectionString, Dictionary<string, string> environment, params string[] settings)
    {
        var port = LoopbackPort.Free();
        var deskPort = LoopbackPort.Free();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "secureintake.dll"), "web", $"--Urls=http://127.0.0.1:{port}",
            $"--Desk:Urls=http://127.0.0.1:{deskPort}" }.Concat(settings))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in SecureIntakeCli.EnvironmentFor(connectionString).Concat(environment))
        {
            start.Environment[name] = value;
        }

        return new RunningService(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"), new Uri($"http://127.0.0.1:{deskPort}"));
    }

    /// <summary>
    /// A cluster of its own where every role but the admin must give its password (scram-sha-256 on the socket),
    /// unlike the shared one, which trusts everyone and so could not tell whether a password arrived.
    /// </summary>
    private static async Task<PostgresCluster> PasswordClusterAsync(string role, string password)
    {
        var cluster = await PostgresCluster.StartAsync();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(cluster.SocketDirectory, "data", "pg_hba.conf"),
                "local all postgres trust\nlocal all all scram-sha-256\n");
            await using (var admin = new NpgsqlConnection(cluster.AdminConnectionString))
            {
                await admin.OpenAsync();
                foreach (var sql in new[]
                {
                    $"CREATE ROLE {role} LOGIN PASSWORD '{password}'",
                    $"CREATE DATABASE {role} OWNER {role}",
                    "SELECT pg_reload_conf()",
                })
                {
                    await using var command = new NpgsqlCommand(sql, admin);
                    await command.ExecuteNonQueryAsync();
                }
            }

            // The reload is a signal the server handles in its own time: wait until it asks for the password.
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (await ConnectsWithoutPasswordAsync(cluster, role))
            {
                Assert.True(DateTime.UtcNow < deadline, "the cluster still lets the role in without a password");
                await Task.Delay(100);
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private static async Task<bool> ConnectsWithoutPasswordAsync(PostgresCluster cluster, string role)
    {
        try
        {
            await using var connection = new NpgsqlConnection($"Host={cluster.SocketDirectory};Port=5432;Username={role};Database={role};Pooling=false");
            await connection.OpenAsync();
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }
}
