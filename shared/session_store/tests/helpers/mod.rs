//! The test world for the store's integration tests: a fresh bucket and table per test on the
//! local AWS (started by `make local-up`), and fake Chromium profiles with login files, caches
//! and stale locks.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use domain::AccountId;
use session_store::{S3ProfileStore, StoreConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A string planted in the profile; an encrypted object must not contain it.
pub const MARKER: &str = "MARKER-wacamp-login-secret-7f3a91";

/// One test's resources.
pub struct TestWorld {
    pub s3: aws_sdk_s3::Client,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub bucket: String,
    pub table: String,
    pub account: AccountId,
    pub temp: tempfile::TempDir,
}

impl TestWorld {
    /// Creates a bucket and a table with unique names in the local AWS.
    pub async fn new() -> Self {
        let (s3, bucket) = test_support::fresh_bucket("wacamp-profiles").await;
        let (dynamo, table) = test_support::fresh_table("wacamp-sessions").await;
        Self {
            s3,
            dynamo,
            bucket,
            table,
            account: AccountId::parse("shop.main").unwrap(),
            temp: tempfile::tempdir().unwrap(),
        }
    }

    /// The default configuration for this world's bucket and table; restores go under `restore_root()`.
    pub fn config(&self) -> StoreConfig {
        let mut c = StoreConfig::new(&self.bucket, &self.table);
        std::fs::create_dir_all(self.restore_root()).unwrap();
        c.temp_root = Some(self.restore_root());
        c
    }

    /// A store with `config`.
    pub fn store(&self, config: StoreConfig) -> S3ProfileStore {
        S3ProfileStore::new(self.s3.clone(), self.dynamo.clone(), config)
    }

    /// A store with `config` whose S3 and DynamoDB calls go through `proxy`.
    pub fn store_through(&self, proxy: &aws_proxy::ProxyHandle, config: StoreConfig) -> S3ProfileStore {
        let conf = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(test_support::aws::sdk_config_at(&proxy.url()))
        });
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build(),
        );
        S3ProfileStore::new(s3, aws_sdk_dynamodb::Client::new(&conf), config)
    }

    /// Where restores create their temp dirs.
    pub fn restore_root(&self) -> PathBuf {
        self.temp.path().join("restore")
    }

    /// The entries under `restore_root()`.
    pub fn restore_root_entries(&self) -> usize {
        std::fs::read_dir(self.restore_root()).map(|d| d.count()).unwrap_or(0)
    }

    /// Builds a fake profile named `name` whose login files carry `tag`.
    pub fn profile(&self, name: &str, tag: &str) -> PathBuf {
        let root = self.temp.path().join("profiles").join(name);
        fake_profile(&root, tag);
        root
    }

    /// The stored object's bytes.
    pub async fn object(&self, key: &str) -> Vec<u8> {
        let out = self.s3.get_object().bucket(&self.bucket).key(key).send().await.unwrap();
        out.body.collect().await.unwrap().into_bytes().to_vec()
    }

    /// Overwrites an object directly, bypassing the store.
    pub async fn overwrite(&self, key: &str, bytes: Vec<u8>) {
        self.s3.put_object().bucket(&self.bucket).key(key).body(bytes.into()).send().await.unwrap();
    }

    /// True when the object exists.
    pub async fn exists(&self, key: &str) -> bool {
        self.s3.head_object().bucket(&self.bucket).key(key).send().await.is_ok()
    }
}

fn write(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

/// The files a login needs (LevelDB-like trees, cookies, Local State) plus caches, logs and
/// Singleton* symlinks that must not survive.
pub fn fake_profile(root: &Path, tag: &str) {
    let idb = "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb";
    let ls = "Default/Local Storage/leveldb";
    let binary: Vec<u8> = (0..70_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for (rel, data) in [
        (format!("{idb}/000003.log"), format!("wa-keys {MARKER} {tag}").into_bytes()),
        (format!("{idb}/000005.ldb"), binary.clone()),
        (format!("{idb}/CURRENT"), b"MANIFEST-000001\n".to_vec()),
        (format!("{idb}/LOCK"), Vec::new()),
        (format!("{idb}/LOG"), format!("leveldb log {tag}").into_bytes()),
        (format!("{idb}/LOG.old"), b"older log".to_vec()),
        (format!("{idb}/MANIFEST-000001"), vec![1, 2, 3, 0, 255]),
        ("Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.blob/1/00/3".into(), binary[..5000].to_vec()),
        (format!("{ls}/000003.log"), format!("last-wid {tag}").into_bytes()),
        (format!("{ls}/CURRENT"), b"MANIFEST-000001\n".to_vec()),
        (format!("{ls}/LOG"), b"ls log".to_vec()),
        (format!("{ls}/MANIFEST-000001"), vec![9, 8, 7]),
        ("Default/Cookies".into(), binary[..20_000].to_vec()),
        ("Default/Cookies-journal".into(), Vec::new()),
        ("Local State".into(), format!("{{\"profile\":\"{tag}\"}}").into_bytes()),
    ] {
        write(root, &rel, &data);
    }
    let junk = vec![0x5a_u8; 300_000];
    for rel in [
        "Default/Cache/Cache_Data/index",
        "Default/Cache/Cache_Data/data_1",
        "Default/Code Cache/js/index-dir/the-real-index",
        "Default/GPUCache/data_0",
        "GrShaderCache/data_1",
        "GraphiteDawnCache/data_0",
        "Default/Service Worker/CacheStorage/abc/index",
        "Crashpad/settings.dat",
        "Default/Session Storage/000003.log",
        "chrome_debug.log",
        "Default/History",
    ] {
        write(root, rel, &junk);
    }
    #[cfg(unix)]
    for (name, target) in [
        ("SingletonLock", "other-host-4242"),
        ("SingletonCookie", "123456789"),
        ("SingletonSocket", "/tmp/.org.chromium.Chromium.x/SingletonSocket"),
    ] {
        std::os::unix::fs::symlink(target, root.join(name)).unwrap();
    }
}

/// Every regular file under `root`, relative path -> bytes (symlinks listed as `-> target`).
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn go(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let ft = std::fs::symlink_metadata(&p).unwrap().file_type();
            if ft.is_symlink() {
                out.insert(rel, format!("-> {}", std::fs::read_link(&p).unwrap().display()).into_bytes());
            } else if ft.is_dir() {
                go(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    go(root, root, &mut out);
    out
}

/// The subset of `tree` a snapshot must keep.
pub fn kept(all: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    all.iter()
        .filter(|(k, _)| session_store::archive::is_kept(Path::new(k.as_str())))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
