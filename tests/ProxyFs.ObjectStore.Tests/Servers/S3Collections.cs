using ProxyFs.Testing.S3;

namespace ProxyFs.ObjectStore.Tests.Servers;

/// <summary>One radosgw for every test class of this assembly in the collection.</summary>
[CollectionDefinition("radosgw")]
public sealed class RadosgwCollection : ICollectionFixture<RadosgwFixture>;

/// <summary>One s3rver for every test class of this assembly in the collection.</summary>
[CollectionDefinition("s3rver")]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>;
