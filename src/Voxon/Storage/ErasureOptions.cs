namespace Voxon.Storage;

/// <summary>Settings of one <see cref="SessionStorage.EraseUserAsync"/> call.</summary>
public sealed class ErasureOptions
{
    /// <summary>Source of the receipt's times. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Told after each session is erased (sessions done, sessions in all); called on the erasing thread.</summary>
    public IProgress<(int Done, int Total)>? Progress { get; set; }
}
