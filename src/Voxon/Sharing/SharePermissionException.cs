namespace Voxon.Sharing;

/// <summary>A shared view was asked to do something its share does not permit.</summary>
public sealed class SharePermissionException : VoxonException
{
    /// <summary>Creates the exception.</summary>
    public SharePermissionException(string permission, string shareId)
        : base($"This shared view (share {shareId}) does not have the '{permission}' permission.")
    {
        Permission = permission;
    }

    /// <summary>The permission that was needed.</summary>
    public string Permission { get; }
}
