namespace SecureIntake.Web.Desk.Access;

/// <summary>
/// The desk's two ways in, never interchangeable: the browser's session cookie, and the desk tool's bearer token.
/// Neither is the default scheme, so a witness request never looks up a desk session.
/// </summary>
public static class DeskSchemes
{
    public const string Browser = "DeskBrowser";
    public const string Tool = "DeskTool";
}

/// <summary>Who may use a group of desk routes.</summary>
public static class DeskPolicies
{
    /// <summary>Any signed-in editor, in the browser.</summary>
    public const string Editor = "DeskEditor";

    /// <summary>An admin, in the browser: editors, desks, keys, the audit log and the job dashboard.</summary>
    public const string Admin = "DeskAdmin";

    /// <summary>
    /// Any signed-in editor in the browser, even one who must still replace a password or second factor an admin set:
    /// their own account page, the language and sign-out. Every other policy also asks that nothing is due.
    /// </summary>
    public const string Account = "DeskAccount";

    /// <summary>Any signed-in editor, through the desk tool's API.</summary>
    public const string Tool = "DeskTool";
}
