namespace SecureIntake.Testing;

/// <summary>Sequoia's `sq` (0.27 on Debian 12), stateless: keys and certificates are files.</summary>
public sealed class Sequoia : IDisposable
{
    private readonly TemporaryDirectory _directory = new("si-sq-");
    private readonly string _sq = ExternalTool.Require("sq", "sq");
    private int _files;

    public async Task<(byte[] Key, byte[] Certificate)> GenerateAsync(string userId, string cipherSuite)
    {
        var keyFile = NextFile("key");
        (await RunAsync(["key", "generate", "--userid", userId, "--cipher-suite", cipherSuite, "--expires", "never", "--export", keyFile]))
            .EnsureSuccess($"sq key generate {cipherSuite}");
        var certificate = (await RunAsync(["key", "extract-cert", keyFile])).EnsureSuccess("sq key extract-cert").Output;
        return (await File.ReadAllBytesAsync(keyFile), certificate);
    }

    public async Task<ToolResult> DecryptAsync(byte[] secretKey, string messageFile)
    {
        var keyFile = NextFile("key");
        await File.WriteAllBytesAsync(keyFile, secretKey);
        return await RunAsync(["decrypt", "--recipient-key", keyFile, messageFile]);
    }

    public async Task<byte[]> EncryptAsync(byte[] certificate, byte[] plaintext)
    {
        var certificateFile = NextFile("cert");
        await File.WriteAllBytesAsync(certificateFile, certificate);
        return (await ExternalTool.RunAsync(_sq, ["encrypt", "--binary", "--recipient-cert", certificateFile], plaintext)).EnsureSuccess("sq encrypt").Output;
    }

    public void Dispose() => _directory.Dispose();

    private Task<ToolResult> RunAsync(IEnumerable<string> arguments) => ExternalTool.RunAsync(_sq, arguments);

    private string NextFile(string kind) => _directory.File($"{kind}-{Interlocked.Increment(ref _files)}.pgp");
}
