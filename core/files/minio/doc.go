// Package miniofiles keeps Rounds' files in a MinIO (or other S3-compatible)
// bucket, for installs with several nodes. It owns the client, the bucket's
// creation and the mapping of S3 errors to core codes (NoSuchKey → not_found,
// a backend that cannot be reached or refuses us → unavailable). It refuses
// to know what the files are or who may read them.
//
// Keys map one to one to object names, under an optional Prefix so several
// installs (or test runs) can share a bucket.
package miniofiles
