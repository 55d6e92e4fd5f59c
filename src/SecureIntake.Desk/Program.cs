using System.CommandLine;
using SecureIntake.Desk;

var root = new RootCommand("""
    secureintake-desk: the editors' tool for SecureIntake. It runs on your own machine, with your own secret
    key: the server never sees it.
    """)
{
    LoginCommand.Build(),
    ListCommand.Build(),
    PullCommand.Build(),
    DecryptCommand.Build(),
    GrantCommand.Build(), GrantCommand.BuildRevoke(),
};
return await root.Parse(args).InvokeAsync();
