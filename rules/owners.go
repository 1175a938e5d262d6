package rules

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/vigie-bot/vigie/rules/text"
)

// ownerSpec is one entry of the owners: section: the domains of one owner.
type ownerSpec struct {
	Name    string
	Node    *yaml.Node // the name
	Domains []*yaml.Node
}

// decodeOwners reads the owners: section, a mapping of an owner's name to
// its domains: mybrand: [mybrand.fr, mybrand-store.com].
func (d *decoder) decodeOwners(n *yaml.Node) []ownerSpec {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "owners: expected a mapping of name: [domains], got %s", kindName(n))
		return nil
	}
	var out []ownerSpec
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		name, ok := d.rawStr(k, "owners: name")
		if !ok {
			continue
		}
		if line, dup := seen[name]; dup {
			d.errorf(k, "owners: owner %q declared twice (first at line %d)", name, line)
			continue
		}
		seen[name] = k.Line
		items, ok := d.seq(v, fmt.Sprintf("owner %q", name), false)
		if !ok {
			continue
		}
		out = append(out, ownerSpec{Name: name, Node: k, Domains: items})
	}
	return out
}

// compileOwners checks the domains of the owners: section and returns them
// as the engine reads them, nil when the section declares none.
func compileOwners(d *decoder, specs []ownerSpec) *text.Owners {
	if len(specs) == 0 {
		return nil
	}
	owners := text.NewOwners()
	first := map[string]pos{} // where each domain is declared
	for _, sp := range specs {
		where := fmt.Sprintf("owner %q", sp.Name)
		var domains []string
		good := true
		for _, n := range sp.Domains {
			s, ok := d.str(n, where)
			if !ok {
				good = false
				continue
			}
			dom, err := text.OwnerDomain(s)
			if err != nil {
				d.errorf(n, "%s: %v", where, err)
				good = false
				continue
			}
			if p, dup := first[dom]; dup {
				d.errorf(n, "%s: %s is declared at line %d already (a domain has one owner)", where, dom, p.Line)
				good = false
				continue
			}
			first[dom] = posOf(n)
			domains = append(domains, dom)
		}
		if !good {
			continue
		}
		if len(domains) < 2 {
			d.errorf(sp.Node, "%s: give two domains at least (one owner's sites that link to each other)", where)
			continue
		}
		if err := owners.Add(domains...); err != nil {
			d.errorf(sp.Node, "%s: %v", where, err)
		}
	}
	return owners
}
