using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using SecureIntake.Core.Blobs;

namespace SecureIntake.Core.Backup;

/// <summary>
/// What a backup folder holds, written last: every file with its size and SHA-256. The digests are of ciphertext
/// and of the dump, never of plaintext, so they confirm nothing about what a witness sent.
/// </summary>
public sealed record BackupManifest(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("postgresMajorVersion")] int PostgresMajorVersion,
    [property: JsonPropertyName("files")] IReadOnlyList<BackupFile> Files)
{
    public const string CurrentFormat = "secureintake-backup/1";
    public const string FileName = "manifest.json";
    public const string DumpPath = "database.dump";
    public const string BlobFolder = "blobs";

    public static string BlobPath(Guid id) => $"{BlobFolder}/{id:N}";

    /// <summary>The blob id a manifest path names, or null when it names none.</summary>
    public static Guid? BlobIdOf(string path) =>
        path.StartsWith(BlobFolder + "/", StringComparison.Ordinal)
        && path.Length == BlobFolder.Length + 33
        && path[(BlobFolder.Length + 1)..].All(char.IsAsciiHexDigitLower)
        && Guid.TryParseExact(path[(BlobFolder.Length + 1)..], "N", out var id)
            ? id
            : null;

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, BackupJson.Default.BackupManifest);

    /// <summary>Reads a manifest, refusing one that is not ours, names a path outside the folder or names a file twice.</summary>
    public static BackupManifest Parse(byte[] json)
    {
        BackupManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, BackupJson.Default.BackupManifest);
        }
        catch (JsonException e)
        {
            throw new BackupRefusedException($"{FileName} is not valid JSON ({e.Message}); the backup is damaged");
        }

        if (manifest is null || manifest.Format != CurrentFormat || manifest.Files is null)
        {
            throw new BackupRefusedException($"{FileName} is not a SecureIntake backup manifest of format '{CurrentFormat}'");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            if (file?.Path is null || (file.Path != DumpPath && BlobIdOf(file.Path) is null) || file.Bytes < 0
                || file.Sha256 is null || file.Sha256.Length != 64 || !file.Sha256.All(char.IsAsciiHexDigitLower))
            {
                throw new BackupRefusedException($"{FileName} names a file it should not ('{file?.Path}'), or without a size and SHA-256; the backup is damaged");
            }

            if (!seen.Add(file.Path))
            {
                throw new BackupRefusedException($"{FileName} names '{file.Path}' twice; the backup is damaged");
            }
        }

        return seen.Contains(DumpPath) ? manifest : throw new BackupRefusedException($"{FileName} names no {DumpPath}; the backup is damaged");
    }
}

public sealed record BackupFile(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("sha256")] string Sha256);

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(BackupManifest))]
internal sealed partial class BackupJson : JsonSerializerContext;

/// <summary>A backup or restore that cannot go ahead; the message says why and what was left behind.</summary>
public sealed class BackupRefusedException(string message, int exitCode = BackupRefusedException.Refused) : Exception(message)
{
    public const int Refused = 1;
    public const int Unavailable = 3;

    public int ExitCode { get; } = exitCode;
}

/// <summary>Copying with the digest taken on the way, and the fsyncs that make a copy durable.</summary>
internal static class BackupFiles
{
    private const int BufferBytes = 1 << 16;

    /// <summary>Copies <paramref name="source"/> to a new file, fsyncs it, and returns its size and SHA-256 (lowercase hex).</summary>
    public static async Task<(long Bytes, string Sha256)> CopyAsync(Stream source, string destination, UnixFileMode mode, CancellationToken cancellationToken,
        DateTime? fixedTime = null)
    {
        await using var target = new FileStream(destination, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
            UnixCreateMode = mode,
        });
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BufferBytes];
        long bytes = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            bytes += read;
        }

        if (fixedTime is { } time)
        {
            // Before the fsync, so that it makes the times durable too.
            File.SetLastWriteTimeUtc(target.SafeFileHandle, time);
            File.SetLastAccessTimeUtc(target.SafeFileHandle, time);
        }

        target.Flush(flushToDisk: true);
        return (bytes, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    public static async Task<(long Bytes, string Sha256)> DigestAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BufferBytes];
        long bytes = 0;
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            bytes += read;
        }

        return (bytes, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    public static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public static void FlushFile(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.Flush(flushToDisk: true);
    }

    public static void FlushDirectory(string directory) => Durability.FlushDirectory(directory);
}
