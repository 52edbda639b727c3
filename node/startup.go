package node

import (
	"errors"
	"log/slog"
	"path/filepath"

	cmtdb "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"

	"github.com/tessera-net/tessera/store"
)

// openVerifiedState checks a home's databases for damage, opens the application state and
// verifies it against CometBFT's stores (VerifyState) before anything is replayed or
// written. A failure, a *DataError when the data is at fault, is logged at error level
// before it is returned.
func openVerifiedState(cfg *cmtcfg.Config, settings Settings, log *slog.Logger) (*store.Store, error) {
	st, err := openAndVerify(cfg, settings, log)
	if err != nil {
		logDataError(log, err)
	}
	return st, err
}

func openAndVerify(cfg *cmtcfg.Config, settings Settings, log *slog.Logger) (*store.Store, error) {
	files := dataFilesOf(cfg)
	if err := checkDatabases(cfg, settings, files); err != nil {
		return nil, err
	}
	chain, err := openCometStores(cfg)
	if err != nil {
		return nil, err
	}
	defer chain.Close()
	st, err := store.Open(filepath.Dir(files.App), store.Options{Backend: settings.StateBackend})
	if err != nil {
		return nil, err
	}
	r, err := VerifyState(st, chain, files)
	if err != nil {
		st.Close()
		return nil, err
	}
	logReport(log, r)
	return st, nil
}

// checkDatabases opens every goleveldb database of the home read-only and strictly
// (checkLevelDB), the application state's and CometBFT's.
func checkDatabases(cfg *cmtcfg.Config, settings Settings, files DataFiles) error {
	if settings.StateBackend == "" || settings.StateBackend == string(cmtdb.GoLevelDBBackend) {
		if err := checkLevelDB(files.App, hintApp); err != nil {
			return err
		}
	}
	if cfg.DBBackend != string(cmtdb.GoLevelDBBackend) {
		return nil
	}
	// The block store and the state store are checked as openCometStores opens them.
	for _, name := range []string{"tx_index", "evidence"} {
		if err := checkLevelDB(filepath.Join(cfg.DBDir(), name+".db"), hintComet); err != nil {
			return err
		}
	}
	return nil
}

func logReport(log *slog.Logger, r StateReport) {
	args := []any{"app_versions", []int64{r.AppEarliest, r.AppLatest}, "blocks", []int64{r.BlockBase, r.BlockHeight},
		"state_height", r.StateHeight, "app_hash_checked", r.HashChecked}
	if r.AppLatest == 0 && r.BlockHeight > 0 {
		log.Warn("the application state is empty: replaying the block store from height 1", args...)
		return
	}
	log.Info("node data verified", args...)
}

// logDataError logs why the node's data stopped the start, as loudly as it is.
func logDataError(log *slog.Logger, err error) {
	var de *DataError
	if errors.As(err, &de) {
		log.Error("node data is damaged: not starting", "file", de.Path, "problem", de.Kind.Error(), "detail", de.Detail, "hint", de.Hint)
		return
	}
	log.Error("cannot open the node's data", "err", err)
}
