package proof_test

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/roadmap-ledger/roadmap/internal/proof"
)

// A fixed key, so that the example's output is fixed: Ed25519 signatures
// are deterministic. A real key comes from LoadOrCreateKey.
func exampleKey() (skey, vkey string) {
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 32)), "roadmap-ledger/ROADMAP")
	if err != nil {
		log.Fatal(err)
	}
	return skey, vkey
}

func ExampleSigner_Sign() {
	skey, vkey := exampleKey()
	fmt.Println("pin:", vkey)
	tree := proof.NewTree()
	for seq, body := range []string{`{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`} {
		if err := tree.Append(uint64(seq+1), []byte(body)); err != nil {
			log.Fatal(err)
		}
	}
	cp, err := tree.Checkpoint("roadmap-ledger/ROADMAP", time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC))
	if err != nil {
		log.Fatal(err)
	}
	signer, err := proof.NewSigner(skey)
	if err != nil {
		log.Fatal(err)
	}
	signed, err := signer.Sign(cp)
	if err != nil {
		log.Fatal(err)
	}
	os.Stdout.Write(signed)

	opened, err := proof.OpenCheckpoint(signed, vkey)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(opened.Size, opened.Root == cp.Root)
	// Output:
	// pin: roadmap-ledger/ROADMAP+db8e3dda+AepKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs
	// roadmap-ledger/ROADMAP
	// 3
	// re0DbUVDjrMDZUzWFdJILTSXpJqP3POl6yuDMgGWW0k=
	// time 2026-11-01T09:30:00Z
	//
	// — roadmap-ledger/ROADMAP 24492i0So8h6H/0jBDmZa5y8+LS+I8Ewu/4cfyySv+efNDce2+QtM7aIoC44PH39V/nDSRokdXXgBtJ7MO9DoOaJ0AU=
	// 3 true
}
