using System.Text;

namespace Voxon.Cli;

/// <summary>
/// Standard output or error when it is a terminal: control characters in what is printed (a stored message or memory
/// can hold any, from an API client or an import) are shown as text instead of reaching the terminal, which would
/// run them (ESC sequences move the cursor, hide text, set the title, or write the clipboard). <c>^[</c> for ESC and
/// the other C0 characters in caret notation, as <c>cat -v</c> shows them, <c>\u009B</c> for C1; tabs and line breaks
/// pass. Output redirected to a file or pipe is left exact (an export must keep its checksum).
/// </summary>
internal sealed class TerminalText(TextWriter terminal) : TextWriter
{
    public override Encoding Encoding => terminal.Encoding;

    /// <summary><paramref name="writer"/>, shown safely when it is a terminal (<paramref name="redirected"/> false).</summary>
    public static TextWriter For(TextWriter writer, bool redirected) => redirected ? writer : new TerminalText(writer);

    /// <summary><paramref name="text"/> with its control characters but tabs and line breaks shown as text.</summary>
    public static string Shown(string text)
    {
        if (!text.AsSpan().ContainsAny(Controls))
        {
            return text;
        }

        var shown = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            shown.Append(c switch
            {
                '\t' or '\n' or '\r' => c.ToString(),
                < ' ' => "^" + (char)(c + '@'),
                '\u007F' => "^?",
                >= '\u0080' and <= '\u009F' => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }

        return shown.ToString();
    }

    private static readonly System.Buffers.SearchValues<char> Controls = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Where(c => c is not ('\t' or '\n' or '\r')).Select(c => (char)c), '\u007F', .. Enumerable.Range(0x80, 0x20).Select(c => (char)c)]);

    public override void Write(char value) => terminal.Write(Shown(value.ToString()));

    public override void Write(string? value) => terminal.Write(value is null ? null : Shown(value));

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine(string? value) => terminal.WriteLine(value is null ? null : Shown(value));

    public override Task WriteAsync(char value) => terminal.WriteAsync(Shown(value.ToString()));

    public override Task WriteAsync(string? value) => terminal.WriteAsync(value is null ? null : Shown(value));

    public override Task WriteAsync(char[] buffer, int index, int count) => WriteAsync(new string(buffer, index, count));

    public override Task WriteLineAsync(string? value) => terminal.WriteLineAsync(value is null ? null : Shown(value));

    public override Task WriteLineAsync() => terminal.WriteLineAsync();

    public override void Flush() => terminal.Flush();

    public override Task FlushAsync() => terminal.FlushAsync();
}
