using Umcg.Cli;
using Umcg.Cli.Reporting;

return CliApp.Run(args, ConsoleUi.ForProcess());
