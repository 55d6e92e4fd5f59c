using System.CommandLine;
using SecureIntake.Desk;
using SecureIntake.Desk.Scrub;

var root = new RootCommand("""
    secureintake-desk: the editors' tool for SecureIntake. It runs on your own machine, with your own secret
    key: the server never sees it.
    """)
{
    LoginCommand.Build(),
    ListCommand.Build(),
    PullCommand.Build(),
    DecryptCommand.Build(),
    GrantCommand.Build(),
    GrantCommand.BuildRevoke(),
    ScrubCommand.Build(),
};
return await root.Parse(args).InvokeAsync();
