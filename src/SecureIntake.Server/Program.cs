using System.CommandLine;
using SecureIntake.Server.CommandLine;

// No termination timeout: on SIGTERM the host stops gracefully (uploads finish or clean up) instead of
// System.CommandLine ending the process two seconds later.
return await Commands.Build().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
