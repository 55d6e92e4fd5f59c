using System.Text;

namespace SecureIntake.Desk;

internal static class Passphrase
{
    /// <summary>Asks on the terminal without echo; when standard input is not a terminal, reads its first line.</summary>
    public static string Read()
    {
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine() ?? "";
        }

        Console.Error.Write("Passphrase for your secret key (empty if it has none): ");
        var passphrase = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (passphrase.Length > 0)
                {
                    passphrase.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                passphrase.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return passphrase.ToString();
    }
}
