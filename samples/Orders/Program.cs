// The orders service. Run: dotnet run --project samples/Orders -- --Orders:Mode=Umcg --ConnectionStrings:Orders="Host=...".
Orders.OrdersApp.Build(args).Run();
