using Umcg.Cli;

return Demo.Run(Console.Out);
