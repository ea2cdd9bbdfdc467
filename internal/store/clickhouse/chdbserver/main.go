// Command chdbserver serves ClickHouse's HTTP interface (package chhttp)
// over chDB, the ClickHouse engine as a library (libchdb.so, found through
// CHDB_LIB_PATH; `make chdb` installs it). Tests start it as a separate
// process: chDB allows one session per process, keeps global state, and a
// process can be stopped and restarted like a server.
//
//	chdbserver -path DIR [-listen 127.0.0.1:0] [-admin 127.0.0.1:0] [-cluster ariadne]
//
// It prints "listening http://ADDR admin http://ADDR" on stdout once both
// listeners are bound. The engine is configured (config.xml in DIR) with
// an in-process test Keeper, so that KeeperMap and Replicated* tables can
// be created, and with a one-shard cluster on this process, so that
// Distributed tables work. The admin listener takes:
//
//	POST /fail?n=N&code=C&match=S  fail the next N statements (containing S)
//	                               (&after=1: run them, then answer the failure)
//	POST /delay?d=DURATION         delay every request
//	POST /down                     close the ClickHouse listener (connections refused)
//	POST /up                       listen again on the same address
//	GET  /stats                    statements, inserts, failures (JSON)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	chdb "github.com/chdb-io/chdb-go/chdb-purego"

	"github.com/ariadnehq/ariadne/internal/store/clickhouse/chhttp"
)

const configXML = `<clickhouse>
    <!-- Not listened on: chDB serves no TCP. Distributed tables treat a
         replica at localhost:9000 as this process and read it locally. -->
    <tcp_port>9000</tcp_port>
    <zookeeper>
        <implementation>testkeeper</implementation>
    </zookeeper>
    <keeper_map_path_prefix>/keeper_map_tables</keeper_map_path_prefix>
    <macros>
        <cluster>%[1]s</cluster>
        <shard>01</shard>
        <replica>r1</replica>
    </macros>
    <remote_servers>
        <%[1]s>
            <shard>
                <replica><host>localhost</host><port>9000</port></replica>
            </shard>
        </%[1]s>
    </remote_servers>
</clickhouse>
`

type engine struct{ conn chdb.ChdbConn }

func (e engine) Query(q, format string) ([]byte, error) {
	if format == "" {
		format = "TabSeparated"
	}
	r, err := e.conn.Query(q, format)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, nil
	}
	defer r.Free()
	if err := r.Error(); err != nil {
		return nil, err
	}
	return append([]byte(nil), r.Buf()...), nil
}

// switchable serves the ClickHouse handler on an address that can be
// closed and reopened.
type switchable struct {
	mu   sync.Mutex
	addr string
	ln   net.Listener
	srv  *http.Server
	h    http.Handler
}

func (s *switchable) up() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after down
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	s.ln, s.addr = ln, ln.Addr().String()
	s.srv = &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return nil
}

func (s *switchable) down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close() // drops open connections too, as a dead server would
		s.srv, s.ln = nil, nil
	}
}

func main() {
	path := flag.String("path", "", "data directory (required)")
	listen := flag.String("listen", "127.0.0.1:0", "ClickHouse HTTP interface address")
	admin := flag.String("admin", "127.0.0.1:0", "admin address")
	cluster := flag.String("cluster", "ariadne", "name of the one-shard cluster on this process")
	flag.Parse()
	if *path == "" {
		log.Fatal("chdbserver: -path is required")
	}
	if err := os.MkdirAll(*path, 0o750); err != nil {
		log.Fatal(err)
	}
	abs, _ := filepath.Abs(*path)
	conf := filepath.Join(abs, "config.xml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(configXML, *cluster)), 0o640); err != nil {
		log.Fatal(err)
	}
	tmp := filepath.Join(abs, "tmp-inserts")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		log.Fatal(err)
	}
	conn, err := chdb.NewConnectionFromConnString(filepath.Join(abs, "data") + "?config-file=" + conf)
	if err != nil {
		log.Fatalf("chdbserver: open chDB: %v", err)
	}
	h := chhttp.New(engine{conn}, tmp)
	sw := &switchable{addr: *listen, h: h}
	if err := sw.up(); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		if r.URL.Query().Get("after") == "1" {
			h.Faults.FailAfter(n, code, r.URL.Query().Get("match"))
			return
		}
		h.Faults.FailNext(n, code, r.URL.Query().Get("match"))
	})
	mux.HandleFunc("POST /delay", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		h.Faults.Delay(d)
	})
	mux.HandleFunc("POST /down", func(w http.ResponseWriter, r *http.Request) { sw.down() })
	mux.HandleFunc("POST /up", func(w http.ResponseWriter, r *http.Request) {
		if err := sw.up(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(h.Stats())
	})
	aln, err := net.Listen("tcp", *admin)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening http://%s admin http://%s\n", sw.addr, aln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(aln, mux))
}
