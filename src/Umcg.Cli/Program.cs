using Umcg.Cli;

return CliApp.Run(args, ConsoleUi.ForProcess());
