// Package proof makes the ledger provable to auditors who do not trust the
// server: a Merkle tree over the whole event stream in the style of
// Certificate Transparency (RFC 6962), signed checkpoints of it, and the
// proofs that tie an event or an older checkpoint to a newer checkpoint.
// The hashing and the proofs are those of golang.org/x/mod/sumdb/tlog, the
// signatures those of golang.org/x/mod/sumdb/note.
//
// The per-aggregate hash chain of the envelopes (see the event catalogue)
// proves that each aggregate's events follow one another; it proves nothing
// against whoever can rewrite the stream and recompute every hash, drop an
// event, or cut off the tail. A signed checkpoint commits to every event up
// to its size at once, so any of those changes shows.
//
// # Leaves
//
// Leaf i (0-based) is the stored message body of the event at stream
// sequence i+1: exactly the bytes the stream holds, the canonical envelope,
// hashed as tlog.RecordHash does (SHA-256 of 0x00 and the bytes). The tree
// of size N is the tree of sequences 1 to N, so a checkpoint's size is the
// sequence of the last event it covers. Interior nodes are tlog.NodeHash
// (SHA-256 of 0x01, left and right); the root of the empty tree is SHA-256
// of nothing (EmptyRoot). The stream refuses deletes and purges, so its
// sequences have no gaps; a Tree that meets one stops (ErrBroken) rather than
// certify a tree that is not the stream.
//
// # Stored hashes
//
// Tree keeps, in memory, every hash tlog would store for the tree: each leaf
// hash and the hash of each perfect subtree it completes, in
// tlog.StoredHashIndex order. That is just under two 32-byte hashes an
// event, about 64 MB for 1,000,000 events, rebuilt by the projection runner's
// replay at start (nothing is persisted). Adding an event costs one SHA-256
// of its body and, on average, one node hash. Any root, inclusion proof or
// consistency proof then reads at most about 2·log₂ n stored hashes. Tree
// implements tlog.HashReader, so the rest of tlog works on it too.
//
// # Compact ranges
//
// A verifier that streams a 1,000,000-event ledger must not hold a hash per
// event. Compact keeps only the compact range of the leaves so far: the
// hashes of the perfect subtrees that cover them, one for each 1 bit of the
// size, at most 63 hashes. Pushing leaves in order and folding the range
// gives the root at every size, equal to tlog.TreeHash. A verifier that
// checked the ledger up to a checkpoint of size N and kept that checkpoint's
// compact range (Tree.SubtreeHashes(N), checked against its root) can later
// resume from sequence N+1 with only the new events and check a newer
// checkpoint's root directly; an auditor with only the old checkpoint uses
// the consistency proof instead.
//
// # Checkpoints
//
// A checkpoint is a signed note (golang.org/x/mod/sumdb/note, Ed25519) whose
// text follows the C2SP tlog-checkpoint format: the origin (the log's name,
// which is also the signing key's name), the size in decimal, the root in
// base64, and one extension line with the time the checkpoint was made, in
// RFC 3339 in UTC. Signed, with the verifier key an auditor pins first:
//
//	pin: roadmap-ledger/ROADMAP+db8e3dda+AepKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs
//
//	roadmap-ledger/ROADMAP
//	3
//	re0DbUVDjrMDZUzWFdJILTSXpJqP3POl6yuDMgGWW0k=
//	time 2026-11-01T09:30:00Z
//
//	— roadmap-ledger/ROADMAP 24492i0So8h6H/0jBDmZa5y8+LS+I8Ewu/4cfyySv+efNDce2+QtM7aIoC44PH39V/nDSRokdXXgBtJ7MO9DoOaJ0AU=
//
// OpenCheckpoint accepts a note only with a valid signature by the one key
// it is given (other signatures, such as a witness's, are ignored) and only
// if the origin is that key's name. ParseCheckpoint accepts exactly the text
// Text writes, so a checkpoint has one text and one signature over it.
//
// # Keys
//
// The signing key is a note signer key ("PRIVATE+KEY+<name>+<hash>+<key>"),
// kept in the data directory's signing.key, readable by its owner only, and
// made on first start (LoadOrCreateKey), or read from a file the operator
// gives (LoadKeyFile). Its verifier key, derived from it (VerifierKey), is
// public: auditors pin it, and never trust a key that arrives with the data
// it is to check.
package proof
