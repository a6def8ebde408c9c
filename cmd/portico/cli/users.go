package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/portico-mcp/portico/server"
)

// stdin is where `admin user create` reads a password when
// PORTICO_ADMIN_PASSWORD is unset; a variable so tests need no terminal.
var stdin io.Reader = os.Stdin

// cmdAdminUserCreate creates the first operator (or any user) from the
// command line. The password never appears in argv (visible in ps): it
// comes from PORTICO_ADMIN_PASSWORD or the first line of stdin.
func cmdAdminUserCreate(ctx context.Context, cfg *server.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("admin user create", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email (their login)")
	operator := fs.Bool("operator", true, "an operator sees and manages every tenant")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" {
		return errors.New("admin user create: --email is required")
	}
	password := cfg.AdminPassword
	if password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("admin user create: give the password on stdin or in PORTICO_ADMIN_PASSWORD")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	store, closeStore, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	u, err := store.CreateUser(ctx, *email, password, *operator, "cli")
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	kind := "user"
	if u.Operator {
		kind = "operator"
	}
	fmt.Fprintf(stdout, "created %s %s (id %s)\n", kind, u.Email, u.ID)
	return nil
}
