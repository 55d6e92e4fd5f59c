using System.CommandLine;
using SecureIntake.Crypto.Decryption;

namespace SecureIntake.Desk;

/// <summary>`secureintake-desk decrypt FILE --key KEY`: works offline, on any .gpg item downloaded from the desk.</summary>
internal static class DecryptCommand
{
    public static Command Build()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "An encrypted item (.gpg), as downloaded from the desk" };
        var key = new Option<FileInfo>("--key") { Description = "Your secret key file (armored or binary, e.g. from `gpg --export-secret-keys --armor`)", Required = true };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Where to write the plaintext (default: FILE without .gpg); an existing file is never overwritten" };
        var command = new Command("decrypt", "Decrypt one item with your secret key; the passphrase is asked for on the terminal, or read from the first line of standard input") { file, key, output };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(file)!, parse.GetValue(key)!, parse.GetValue(output), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo file, FileInfo key, FileInfo? output, CancellationToken cancellationToken)
    {
        var target = output?.FullName ?? DefaultOutput(file.FullName);
        if (!file.Exists || !key.Exists)
        {
            return Fail($"'{(file.Exists ? key : file).FullName}' does not exist");
        }

        if (File.Exists(target))
        {
            return Fail($"'{target}' already exists; choose another place with --output");
        }

        try
        {
            var decryptor = OpenPgpDecryptor.FromSecretKeys(await File.ReadAllBytesAsync(key.FullName, cancellationToken), Passphrase.Read());
            await PlaintextFile.WriteVerifiedAsync(target, destination => DecryptAsync(decryptor, file, destination, cancellationToken), cancellationToken);
        }
        catch (DecryptionException e)
        {
            return Fail($"{file.Name}: {e.Message}; nothing was written");
        }
        catch (IOException e)
        {
            return Fail($"cannot write '{target}': {e.Message}");
        }

        Console.WriteLine($"decrypted {file.Name} to {target}");
        return 0;
    }

    private static async Task DecryptAsync(OpenPgpDecryptor decryptor, FileInfo file, Stream destination, CancellationToken cancellationToken)
    {
        await using var source = file.OpenRead();
        await decryptor.DecryptAsync(source, destination, cancellationToken);
    }

    private static string DefaultOutput(string path) =>
        path.EndsWith(".gpg", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pgp", StringComparison.OrdinalIgnoreCase)
            ? path[..^4]
            : path + ".decrypted";

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"secureintake-desk: {message}");
        return 1;
    }
}
