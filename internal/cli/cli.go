// Package cli implements the ariadne command line: one file per subcommand.
// It parses flags and environment, then calls into internal/app (serve) or
// talks to a running server over the HTTP API (trace, search, tail). It never
// calls os.Exit; Run returns the process exit code.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is what a command may touch of the outside world, so that tests can
// run commands without a real terminal or process environment.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (os.Getenv in main).
	Getenv func(string) string
}

// command is one subcommand.
type command interface {
	Name() string
	Synopsis() string
	// Run executes the command with the arguments after its name. A returned
	// *usageError prints usage and exits 2; any other error exits 1.
	Run(ctx context.Context, env Env, args []string) error
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func commands() []command {
	return []command{
		&serveCmd{},
		&traceCmd{},
		&searchCmd{},
		&tailCmd{},
		&demoCmd{},
		&alertsCmd{},
		&versionCmd{},
	}
}

// Run runs the subcommand named by args[0] and returns the exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(env.Stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range cmds {
		if c.Name() != args[0] {
			continue
		}
		err := c.Run(ctx, env, args[1:])
		var ue *usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(env.Stderr, "ariadne %s: %s\n", c.Name(), ue.msg)
			return 2
		default:
			fmt.Fprintf(env.Stderr, "ariadne %s: %v\n", c.Name(), err)
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "ariadne: unknown command %q\n\n", args[0])
	printUsage(env.Stderr, cmds)
	return 2
}

func printUsage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "Usage: ariadne <command> [flags]\n\nCommands:")
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-8s %s\n", c.Name(), c.Synopsis())
	}
	fmt.Fprintln(w, "\nRun 'ariadne <command> -h' for the flags of a command.")
}

// newFlagSet makes a flag set that reports errors instead of exiting.
func newFlagSet(env Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("ariadne "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// parseFlags parses args and turns a flag error into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: strings.TrimSpace(err.Error())}
	}
	return nil
}

// Version is set by the linker (-X) in release builds.
var Version = "dev"

type versionCmd struct{}

func (versionCmd) Name() string     { return "version" }
func (versionCmd) Synopsis() string { return "print the version" }
func (versionCmd) Run(_ context.Context, env Env, _ []string) error {
	fmt.Fprintln(env.Stdout, "ariadne", Version)
	return nil
}
