package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
)

// A flipped byte in a goleveldb journal, which a normal open drops with the records it
// held, is refused with the journal's name, and the database is left as it was.
func TestCheckLevelDBNamesADamagedJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := leveldb.OpenFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if err := db.Put([]byte(fmt.Sprintf("k%03d", i)), make([]byte, 100), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := checkLevelDB(path, "hint"); err != nil {
		t.Fatalf("healthy database: %v", err)
	}
	journal := filepath.Join(path, "000001.log")
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(journal, b, 0o644); err != nil {
		t.Fatal(err)
	}
	err = checkLevelDB(path, "hint")
	var de *DataError
	if !errors.Is(err, ErrCorruptData) || !errors.As(err, &de) || de.Path != journal {
		t.Fatalf("got %v, want corrupt data naming %s", err, journal)
	}
	if after, _ := os.ReadFile(journal); string(after) != string(b) {
		t.Fatal("the check rewrote the damaged journal")
	}
	if err := checkLevelDB(filepath.Join(t.TempDir(), "none.db"), "hint"); err != nil {
		t.Fatalf("a database not created yet: %v", err)
	}
}

func TestGuardTurnsAPanicIntoAnError(t *testing.T) {
	err := guard("data/blockstore.db", "hint", func() { panic("cannot unmarshal") })
	var de *DataError
	if !errors.As(err, &de) || de.Path != "data/blockstore.db" || !errors.Is(err, ErrCorruptData) {
		t.Fatalf("got %v", err)
	}
	if err := guard("p", "hint", func() {}); err != nil {
		t.Fatal(err)
	}
}
