// libpglift from Go: create an instance, read it back, restart it asynchronously while its log
// records stream in, read its server log as a stream, then drop it.
//
//	go run ./cmd/example [-name NAME] [-port PORT]
//
// Settings come from the environment as for the pglift CLI (SETTINGS, PGLIFT_CONFIG_DIR, ...).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"

	"example.com/pglift"
)

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 5432
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func main() {
	name := flag.String("name", "example", "instance name")
	port := flag.Int("port", 0, "port (default: a free one)")
	flag.Parse()
	if *port == 0 {
		*port = freePort()
	}
	if err := run(*name, *port); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(name string, port int) error {
	ctx, err := pglift.NewContext(pglift.Options{OnEvent: func(e pglift.Event) {
		if e.Kind == pglift.EventLog {
			fmt.Printf("  [op %d] %s\n", e.Tag, e.Message)
		}
	}})
	if err != nil {
		return err
	}
	defer ctx.Close()
	bg := context.Background()
	fmt.Println("libpglift", pglift.Version())

	instance, err := ctx.Create(bg, pglift.InstanceSpec{Name: name, Port: port})
	if err != nil {
		return err
	}
	qualified := instance.Version + "/" + instance.Name
	defer func() {
		if err := ctx.Drop(bg, qualified); err != nil {
			fmt.Fprintln(os.Stderr, "drop:", err)
			return
		}
		fmt.Println("dropped", qualified)
	}()
	fmt.Printf("created %s: port %d, state %s\n  data directory: %s\n", qualified, instance.Port, instance.State, instance.DataDirectory)

	op, err := ctx.RestartAsync(qualified, pglift.StopFast)
	if err != nil {
		return err
	}
	defer op.Free()
	<-op.Done() // meanwhile, log events are printed by the draining goroutine
	if _, err := op.Result(); err != nil {
		return err
	}
	status, err := ctx.Status(bg, qualified)
	if err != nil {
		return err
	}
	fmt.Printf("%s restarted, postgresql %s (pid %d)\n", qualified, status.PostgreSQL, *status.PID)

	// The server's log file as a stream (not followed: it ends after the current content).
	logs, err := ctx.StreamLogs(bg, qualified, false)
	if err != nil {
		return err
	}
	lines := 0
	for chunk := range logs.C {
		lines += strings.Count(chunk, "\n")
	}
	if err := logs.Err(); err != nil {
		return err
	}
	fmt.Printf("its server log: %d lines so far\n", lines)
	return nil
}
