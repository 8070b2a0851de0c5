using Voxon.Cli;

return await VoxonCommand.RunAsync(
    args,
    Console.In,
    TerminalText.For(Console.Out, Console.IsOutputRedirected),
    TerminalText.For(Console.Error, Console.IsErrorRedirected));
