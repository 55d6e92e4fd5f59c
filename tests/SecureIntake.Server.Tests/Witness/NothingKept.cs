using System.Collections.Concurrent;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>
/// What "nothing is kept" after a refused post means: no row; no file left under the blob directory (pending
/// ciphertext may come and go while a post streams); no file created in the server's temp directory at all, even
/// one removed again before the answer, since anything there would be a plaintext buffer; and none of what the
/// witness sent in the server's logs.
/// </summary>
internal static class NothingKept
{
    public static async Task AssertAsync(WitnessServerProcess server, string blobDirectory, Func<Task<long[]>> countRows, Func<Task> act,
        IReadOnlyCollection<string> witnessContent)
    {
        var rows = await countRows();
        var logsBefore = (await server.FlushedLogsAsync()).Length;
        var created = new ConcurrentQueue<string>();
        using var tempWatch = Watch(server.TempDirectory, created);
        var filesBefore = WitnessServerProcess.FilesUnder(blobDirectory).Concat(WitnessServerProcess.FilesUnder(server.TempDirectory)).ToHashSet();

        await act();

        // The watcher reports in order, so once this file is seen every file the post created has been too.
        var barrier = Path.Combine(server.TempDirectory, $".barrier-{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(barrier, []);
        File.Delete(barrier);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!created.Contains(barrier))
        {
            Assert.True(DateTime.UtcNow < deadline, "the file watcher reported nothing within 60 s");
            await Task.Delay(20);
        }

        Assert.Equal(rows, await countRows());
        var leftBehind = created.Where(path => path != barrier).ToList();
        Assert.True(leftBehind.Count == 0, $"the server created files in its temp directory: {string.Join(", ", leftBehind)}");
        Assert.Empty(WitnessServerProcess.FilesUnder(blobDirectory).Concat(WitnessServerProcess.FilesUnder(server.TempDirectory)).Except(filesBefore));
        var logs = (await server.FlushedLogsAsync())[logsBefore..];
        Assert.NotEmpty(witnessContent);
        foreach (var content in witnessContent)
        {
            Assert.False(logs.Contains(content, StringComparison.Ordinal), $"the server logged what the witness sent ({content}):\n{logs}");
        }
    }

    private static FileSystemWatcher Watch(string directory, ConcurrentQueue<string> created)
    {
        var watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName, InternalBufferSize = 64 * 1024 };
        watcher.Created += (_, e) => created.Enqueue(e.FullPath);
        watcher.Renamed += (_, e) => created.Enqueue(e.FullPath);
        watcher.Error += (_, e) => created.Enqueue($"watcher error: {e.GetException().Message}");
        watcher.EnableRaisingEvents = true;
        return watcher;
    }
}
