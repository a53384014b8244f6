// Package localdisk keeps Rounds' files in a directory on the server's own
// disk: the default store of a single-node install. It owns the on-disk
// layout and its atomicity; it refuses to know what the files are (chat
// uploads, app bundles) or who may read them, which the areas decide.
//
// Layout: the key "org1/chat/f1" lives in the directory <root>/org1/chat as
// a metadata file "f1~meta" (JSON: content type, size, time, version) and a
// data file "f1~v<version>". "~" cannot occur in a key, so an object "a" and
// a directory "a" for "a/b" never collide. Put writes a new data file, syncs
// it, then replaces the metadata file by rename: that rename is the moment
// the new object appears, with its bytes and content type together. The old
// data file is removed afterwards; a reader that still has it open keeps
// reading the old object. A crash can leave an unreferenced data or temp
// file ("~t" names) behind, which is never listed or served.
package localdisk
