package crypto

import (
	"fmt"
	"math/big"
	"reflect"
	"testing"

	"github.com/tuneinsight/lattigo/v5/core/rlwe"

	"github.com/fedactor/fedactor/internal/secrecy"
)

// secretFields name, per role type, the fields that hold its secrets: key
// material only that role may hold.
var secretFields = map[reflect.Type][]string{
	reflect.TypeOf(CKKSRevealer{}):           {"sk"},
	reflect.TypeOf(ThresholdCKKSRevealer{}):  {"sk"},
	reflect.TypeOf(ThresholdCKKSProtector{}): {"sk", "tsk"},
	reflect.TypeOf(PaillierRevealer{}):       {"sk"},
	reflect.TypeOf(SecAggRevealer{}):         {"sk"},
	reflect.TypeOf(SecAggProtector{}):        {"sk", "b", "peers"},
}

// roleSecrets returns the key material of roles, in byte forms: arrays of
// 8-byte words (polynomial coefficients) searched by windows, the rest
// (big integers, 32-byte keys and seeds) whole.
func roleSecrets(roles ...any) []secrecy.Secret {
	var out []secrecy.Secret
	for _, r := range roles {
		v := reflect.ValueOf(r)
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			v = v.Elem()
		}
		for _, f := range secretFields[v.Type()] {
			for i, b := range secrecy.ValueBlobs(v.FieldByName(f)) {
				s := secrecy.Secret{Name: fmt.Sprintf("%s.%s[%d]", v.Type().Name(), f, i), Bytes: b}
				if len(b) >= 64 && len(b)%8 == 0 {
					s.Width = 8
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// lifeSecrets returns every secret of l: the roles' key material and the
// test updates, weighted, in every plaintext form of the scheme.
func lifeSecrets(l *life, cfg Config) []secrecy.Secret {
	roles := []any{l.rev}
	for _, o := range l.owners {
		roles = append(roles, o)
	}
	secrets := roleSecrets(roles...)
	ups, ws := testUpdates(7, cfg.Owners, cfg.Len)
	for i, u := range ups {
		weighted := make([]float64, len(u))
		for j, x := range u {
			weighted[j] = ws[i] * x
		}
		for _, v := range [][]float64{u, weighted} {
			for _, f := range PlaintextForms(l.s, v) {
				secrets = append(secrets, secrecy.Secret{Name: fmt.Sprintf("owner %d's update as %s", i, f.Name), Width: f.Width, Bytes: f.Bytes})
			}
		}
	}
	return secrets
}

// TestCombinerHoldsNoSecretBytes searches every byte a secure worker's
// Combiner holds, after set-up (with the key exchange) and the combining
// of every owner's update, for any window of 4 words of a
// secret key, any key or seed whole, and any 4 consecutive values of an
// update in every plaintext form; for every scheme and ss with a
// committee, whose holding owners' Combiners are checked too.
func TestCombinerHoldsNoSecretBytes(t *testing.T) {
	configs := map[string]variant{"ss-committee": {"ss", Config{Owners: 3, Len: 50, Committee: 2}}}
	for name, cfg := range smallConfigs() {
		if name != "plain" { // the trusted aggregator holds plaintext by design
			configs[name] = variant{name, cfg}
		}
	}
	for label, v := range configs {
		t.Run(label, func(t *testing.T) {
			l := newLife(t, v.scheme, v.cfg)
			d := secrecy.NewDetector(4, lifeSecrets(l, v.cfg)...)
			if found := d.FindAny(secrecy.Blobs(l.sw)); found != "" {
				t.Errorf("the secure worker's combiner holds %s", found)
			}
			if k, _ := HoldingOwners(l.s); k > 0 {
				c, err := l.s.NewCombiner(l.payloads[kindSetup])
				if err != nil {
					t.Fatal(err)
				}
				if found := d.FindAny(secrecy.Blobs(c)); found != "" {
					t.Errorf("a holding owner's combiner holds %s", found)
				}
			}
		})
	}
}

// TestSecretSearchCatchesPlantedSecrets is the positive control of the
// search above: secrets planted where the type-based walk of
// TestCombinerHoldsNoSecret looks away are found: a Paillier prime as a
// *big.Int, CKKS secret-key coefficients copied into a ring polynomial,
// a secagg private key as bytes, and a fixed-point plaintext as []uint64.
func TestSecretSearchCatchesPlantedSecrets(t *testing.T) {
	planted := map[string]func(l *life) any{
		"paillier": func(l *life) any {
			return struct{ n *big.Int }{new(big.Int).Set(l.rev.(*PaillierRevealer).sk.p)}
		},
		"ckks": func(l *life) any {
			sk := l.rev.(*CKKSRevealer).sk.Value.Q
			p := ringPoly(1, len(sk.Coeffs[0]))
			copy(p.Coeffs[0], sk.Coeffs[0])
			return struct{ p any }{p}
		},
		"ckks-threshold": func(l *life) any {
			return struct{ k *rlwe.SecretKey }{l.rev.(*ThresholdCKKSRevealer).sk}
		},
		"secagg": func(l *life) any {
			return struct{ b []byte }{l.rev.(*SecAggRevealer).sk.Bytes()}
		},
		"ss": func(l *life) any {
			ups, ws := testUpdates(7, 3, 50)
			var fx []uint64
			for _, x := range ups[1] {
				e, _ := DefaultFixedPoint.Encode(ws[1] * x)
				fx = append(fx, uint64(e))
			}
			return struct{ v []uint64 }{fx}
		},
	}
	for name, plant := range planted {
		t.Run(name, func(t *testing.T) {
			cfg := smallConfigs()[name]
			l := newLife(t, name, cfg)
			d := secrecy.NewDetector(4, lifeSecrets(l, cfg)...)
			held := struct {
				combiner Combiner
				planted  any
			}{l.sw, plant(l)}
			if d.FindAny(secrecy.Blobs(held)) == "" {
				t.Errorf("the planted %s secret was not found", name)
			}
		})
	}
}
