using SecureIntake.Server.CommandLine;

return await Commands.Build().Parse(args).InvokeAsync();
