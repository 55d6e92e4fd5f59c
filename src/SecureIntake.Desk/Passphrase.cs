using System.Text;

namespace SecureIntake.Desk;

internal static class Passphrase
{
    public static string Read() => ReadSecret("Passphrase for your secret key (empty if it has none): ");

    /// <summary>
    /// Asks on the terminal without echo; when standard input is not a terminal, reads its next line, so that
    /// scripts and tests can pipe the answers one per line.
    /// </summary>
    public static string ReadSecret(string prompt)
    {
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine() ?? "";
        }

        Console.Error.Write(prompt);
        var secret = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (secret.Length > 0)
                {
                    secret.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                secret.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return secret.ToString();
    }
}
