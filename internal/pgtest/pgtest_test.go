package pgtest

import "testing"

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"URL", "postgres://u:p@h:5432/postgres?sslmode=disable", "postgres://u:p@h:5432/x?sslmode=disable"},
		{"URLNoPath", "postgres://u@h", "postgres://u@h/x"},
		{"URLNoQuery", "postgresql://h/db", "postgresql://h/x"},
		{"URLPathAndQuery", "postgres://h:5432/db?sslmode=disable&x=/y", "postgres://h:5432/x?sslmode=disable&x=/y"},
		{"KeyValue", "host=/tmp port=5432 dbname=postgres", "host=/tmp port=5432 dbname=postgres dbname=x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := WithDatabase(tc.in, "x"); got != tc.want {
				t.Errorf("WithDatabase(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
