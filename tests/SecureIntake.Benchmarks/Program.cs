using SecureIntake.Benchmarks;

return args switch
{
    ["encrypt", .. var rest] => await EncryptBenchmark.RunAsync(rest),
    ["encrypt-once", var certificates, var input, var output] => await EncryptBenchmark.EncryptOnceAsync(certificates, input, output),
    ["upload", .. var rest] => await UploadBenchmark.RunAsync(rest),
    ["submissions", .. var rest] => await SubmissionsBenchmark.RunAsync(rest),
    ["queue", .. var rest] => await QueueBenchmark.RunAsync(rest),
    ["mail", .. var rest] => await MailBenchmark.RunAsync(rest),
    ["attack", .. var rest] => await AttackBenchmark.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project tests/SecureIntake.Benchmarks -- encrypt [--size-mib N] [--runs N] [--dir DIR]
               dotnet run -c Release --project tests/SecureIntake.Benchmarks -- upload [--size-mib N] [--runs N] [--dir DIR]
               dotnet run -c Release --project tests/SecureIntake.Benchmarks -- submissions [--count N] [--concurrency N] [--dir DIR]
               dotnet run -c Release --project tests/SecureIntake.Benchmarks -- queue [--count N] [--requests N] [--dir DIR]
               dotnet run -c Release --project tests/SecureIntake.Benchmarks -- mail [--count N] [--runs N] [--dir DIR]
               dotnet run -c Release --project tests/SecureIntake.Benchmarks -- attack [--hostile N] [--honest N] [--seconds N]
                      [--concurrency N] [--dir DIR] [--set Section:Name=value ...]

          encrypt   encrypts an N MiB file (default 1024) to two recipients (Curve25519 and RSA-4096)
                    with our core and with `gpg --encrypt --compress-algo none` in the same run, and
                    prints both throughputs, their ratio and our peak memory.
          upload    uploads an N MiB file with curl over loopback in one run: into a Kestrel endpoint
                    that streams it to a null sink (the ceiling), into `secureintake web` (encrypt,
                    fsync, commit); beside them `gpg --encrypt` of the same file and a copy with
                    `dd conv=fsync` (the disk's ceiling), each median of N runs (default 3); prints
                    the throughputs, the ratios and the server's peak memory.
          submissions
                    sends N small submissions (default 200), a given number at a time (default 8),
                    to `secureintake web` with production codename parameters; prints submissions/s
                    next to the ceiling one Argon2id hash per submission sets, p50/p99 latency and
                    errors (exit 1 on any error).
          queue     fills the database with N submissions (default 100000) and times the desk's
                    queue page over HTTP for several filters; prints p50/p99 per filter.
          mail      delivers N emails of mixed sizes (default 2000) into a real Dovecot and drains
                    them with a gateway pass, alternating with fetching a copy of them only, in
                    N rounds (default 3) after a warm-up round; prints median messages/s of both
                    and peak memory.

        Every benchmark but encrypt keeps its blobs and a PostgreSQL cluster with production
        durability (fsync, synchronous_commit, full_page_writes on) under /var/tmp (--dir DIR
        picks another place), and prints where they live, on which file system, and the
        settings the server reports.
          attack    sends N honest submissions (default 200; form, message and a 1 MiB file, 8 at a
                    time) to one `secureintake web` on durable storage, first alone, then while N
                    hostile connections (default 1000: idle after the headers, idle after a boundary
                    line, dribbling, re-posting one token) hold the form for N seconds (default 240);
                    prints honest submissions received and their p50/p99 in both phases, the server's
                    peak memory, and per hostile kind how long the server held its connections and
                    what it answered (exit 1 when any honest submission failed).
        """);
    return 2;
}
