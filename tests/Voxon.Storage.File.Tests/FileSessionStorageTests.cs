using Voxon.Storage.Conformance;

namespace Voxon.Storage.File.Tests;

public sealed class FileSessionStorageTests(FileStorageFixture fixture) : SessionStorageTests<FileStorageFixture>(fixture);

public sealed class FileProcessTests(FileStorageFixture fixture) : StorageProcessTests<FileStorageFixture>(fixture);
