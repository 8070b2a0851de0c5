using BenchmarkDotNet.Running;

// Run all: dotnet run -c Release --project bench/Voxon.Benchmarks -- --filter '*'
// Percentile harnesses (medians and p99 printed directly) are selected with "harness NAME".
if (args.Length > 0 && args[0] == "harness")
{
    return await Voxon.Benchmarks.Harness.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Voxon.Benchmarks.Harness).Assembly).Run(args);
return 0;
