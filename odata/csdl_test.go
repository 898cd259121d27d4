package odata

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// xmlElem is an XML element as the CSDL tests compare it: its name, attributes in document order, and child
// elements (character data is only indentation in CSDL).
type xmlElem struct {
	Name     string
	Attrs    []string // "space:local=value"
	Children []*xmlElem
}

func (e *xmlElem) String() string {
	var b strings.Builder
	var write func(e *xmlElem, indent string)
	write = func(e *xmlElem, indent string) {
		b.WriteString(indent + "<" + e.Name + " " + strings.Join(e.Attrs, " ") + ">\n")
		for _, c := range e.Children {
			write(c, indent+"  ")
		}
	}
	write(e, "")
	return b.String()
}

func (e *xmlElem) attr(name string) string {
	for _, a := range e.Attrs {
		if v, ok := strings.CutPrefix(a, ":"+name+"="); ok {
			return v
		}
	}
	return ""
}

// find returns the children named name whose Name attribute is value ("" for any).
func (e *xmlElem) find(name, value string) []*xmlElem {
	var out []*xmlElem
	for _, c := range e.Children {
		if c.Name == name && (value == "" || c.attr("Name") == value) {
			out = append(out, c)
		}
	}
	return out
}

// parseXML reads a whole document strictly; it fails on anything that is not well-formed, on character data
// other than whitespace, and on anything after the root element but whitespace.
func parseXML(tb testing.TB, doc string) *xmlElem {
	tb.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	dec.Strict = true
	var (
		stack []*xmlElem
		root  *xmlElem
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("the document is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &xmlElem{Name: tok.Name.Space + ":" + tok.Name.Local}
			for _, a := range tok.Attr {
				e.Attrs = append(e.Attrs, a.Name.Space+":"+a.Name.Local+"="+a.Value)
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, e)
			} else if root != nil {
				tb.Fatal("a second root element")
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(bytes.TrimSpace(tok)) != 0 {
				tb.Fatalf("character data %q", tok)
			}
		case xml.ProcInst:
			if tok.Target != "xml" || root != nil {
				tb.Fatalf("processing instruction %s", tok.Target)
			}
		default:
			tb.Fatalf("unexpected %T", tok)
		}
	}
	if root == nil || len(stack) != 0 {
		tb.Fatal("no complete root element")
	}
	return root
}

const edm = "http://docs.oasis-open.org/odata/ns/edm"

func schemaOf(tb testing.TB, root *xmlElem) *xmlElem {
	tb.Helper()
	if root.Name != "http://docs.oasis-open.org/odata/ns/edmx:Edmx" || len(root.Children) != 1 || len(root.Children[0].Children) != 1 {
		tb.Fatalf("document structure:\n%s", root)
	}
	s := root.Children[0].Children[0]
	if s.Name != edm+":Schema" {
		tb.Fatalf("no Schema: %s", s.Name)
	}
	return s
}

func equalElems(tb testing.TB, what string, got, want []*xmlElem) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Errorf("%s: %d elements, want %d", what, len(got), len(want))
		return
	}
	for i := range want {
		if got[i].String() != want[i].String() {
			tb.Errorf("%s differs:\n got %s\nwant %s", what, got[i], want[i])
		}
	}
}

// The certificateConnectorDetails part of the generated document is the document graphd served before the
// model became data (testdata/csdl_connectors_old.xml): the same elements with the same attributes in order.
func TestMetadataDocumentConnectorsUnchanged(t *testing.T) {
	t.Parallel()
	old, err := os.ReadFile(filepath.Join("testdata", "csdl_connectors_old.xml"))
	if err != nil {
		t.Fatal(err)
	}
	oldRoot := parseXML(t, string(old))
	newRoot := parseXML(t, Graph().MetadataDocument())
	if oldRoot.Name != newRoot.Name || !slices.Equal(oldRoot.Attrs, newRoot.Attrs) ||
		!slices.Equal(oldRoot.Children[0].Attrs, newRoot.Children[0].Attrs) {
		t.Errorf("Edmx or DataServices differ:\n%s\n%s", oldRoot, newRoot)
	}
	oldSchema, newSchema := schemaOf(t, oldRoot), schemaOf(t, newRoot)
	if !slices.Equal(oldSchema.Attrs, newSchema.Attrs) {
		t.Errorf("Schema attributes %v, want %v", newSchema.Attrs, oldSchema.Attrs)
	}
	for _, c := range []struct{ elem, name string }{
		{"EntityType", "entity"},
		{"EntityType", "certificateConnectorDetails"},
		{"ComplexType", "keyLongValuePair"},
		{"ComplexType", "timeSeriesParameter"},
		{"ComplexType", "certificateConnectorHealthMetricValue"},
		{"Action", "getHealthMetrics"},
		{"Action", "getHealthMetricTimeSeries"},
	} {
		want := oldSchema.find(edm+":"+c.elem, c.name)
		if len(want) != 1 {
			t.Fatalf("the old document has %d %s %s", len(want), c.elem, c.name)
		}
		equalElems(t, c.elem+" "+c.name, newSchema.find(edm+":"+c.elem, c.name), want)
	}
	// deviceManagement gains the userPfxCertificates navigation property; the connectors' is as it was.
	oldDM, newDM := oldSchema.find(edm+":EntityType", "deviceManagement"), newSchema.find(edm+":EntityType", "deviceManagement")
	if len(oldDM) != 1 || len(newDM) != 1 || !slices.Equal(oldDM[0].Attrs, newDM[0].Attrs) {
		t.Fatalf("deviceManagement: %v, %v", oldDM, newDM)
	}
	equalElems(t, "the connectors' navigation property", newDM[0].find(edm+":NavigationProperty", "certificateConnectorDetails"),
		oldDM[0].find(edm+":NavigationProperty", "certificateConnectorDetails"))
	if got := len(newDM[0].Children); got != 2 {
		t.Errorf("deviceManagement has %d navigation properties, want 2", got)
	}
	// The container holds the singleton, as before, and nothing else.
	oldC, newC := oldSchema.find(edm+":EntityContainer", ""), newSchema.find(edm+":EntityContainer", "")
	equalElems(t, "EntityContainer", newC, oldC)
	// Nothing the old document had is missing.
	for _, e := range oldSchema.Children {
		if len(newSchema.find(e.Name, e.attr("Name"))) != 1 {
			t.Errorf("%s %s is missing", e.Name, e.attr("Name"))
		}
	}
}

// pfxDocsCSDL is the userPFXCertificate entity type as Graph's beta CSDL has it.
const pfxDocsCSDL = `<EntityType Name="userPFXCertificate" BaseType="graph.entity" xmlns="http://docs.oasis-open.org/odata/ns/edm">
  <Property Name="thumbprint" Type="Edm.String" />
  <Property Name="intendedPurpose" Type="graph.userPfxIntendedPurpose" Nullable="false" />
  <Property Name="userPrincipalName" Type="Edm.String" />
  <Property Name="startDateTime" Type="Edm.DateTimeOffset" Nullable="false" />
  <Property Name="expirationDateTime" Type="Edm.DateTimeOffset" Nullable="false" />
  <Property Name="providerName" Type="Edm.String" />
  <Property Name="keyName" Type="Edm.String" />
  <Property Name="paddingScheme" Type="graph.userPfxPaddingScheme" Nullable="false" />
  <Property Name="encryptedPfxBlob" Type="Edm.Binary" />
  <Property Name="encryptedPfxPassword" Type="Edm.String" />
  <Property Name="createdDateTime" Type="Edm.DateTimeOffset" Nullable="false" />
  <Property Name="lastModifiedDateTime" Type="Edm.DateTimeOffset" Nullable="false" />
</EntityType>`

// The userPFXCertificate part is Graph's: the entity type, its two enums and the navigation property.
func TestMetadataDocumentUserPfx(t *testing.T) {
	t.Parallel()
	schema := schemaOf(t, parseXML(t, Graph().MetadataDocument()))
	want := parseXML(t, pfxDocsCSDL)
	want.Attrs = want.Attrs[:2] // without the xmlns the fragment needs
	equalElems(t, "EntityType userPFXCertificate", schema.find(edm+":EntityType", "userPFXCertificate"), []*xmlElem{want})
	enum := func(name string, members ...string) *xmlElem {
		e := &xmlElem{Name: edm + ":EnumType", Attrs: []string{":Name=" + name}}
		for i := 0; i < len(members); i += 2 {
			e.Children = append(e.Children, &xmlElem{Name: edm + ":Member", Attrs: []string{":Name=" + members[i], ":Value=" + members[i+1]}})
		}
		return e
	}
	equalElems(t, "EnumType userPfxIntendedPurpose", schema.find(edm+":EnumType", "userPfxIntendedPurpose"),
		[]*xmlElem{enum("userPfxIntendedPurpose", "unassigned", "0", "smimeEncryption", "1", "smimeSigning", "2", "vpn", "4", "wifi", "8")})
	equalElems(t, "EnumType userPfxPaddingScheme", schema.find(edm+":EnumType", "userPfxPaddingScheme"),
		[]*xmlElem{enum("userPfxPaddingScheme", "none", "0", "pkcs1", "1", "oaepSha1", "2", "oaepSha256", "3", "oaepSha384", "4", "oaepSha512", "5")})
	dm := schema.find(edm+":EntityType", "deviceManagement")
	equalElems(t, "NavigationProperty userPfxCertificates", dm[0].find(edm+":NavigationProperty", "userPfxCertificates"),
		[]*xmlElem{{Name: edm + ":NavigationProperty", Attrs: []string{":Name=userPfxCertificates", ":Type=Collection(graph.userPFXCertificate)", ":ContainsTarget=true"}}})
	// Every type a property or action names is declared (graph.x) or primitive (Edm.x).
	declared := map[string]bool{}
	for _, c := range schema.Children {
		if n := c.attr("Name"); n != "" && c.Name != edm+":Action" {
			declared["graph."+n] = true
		}
	}
	var check func(e *xmlElem)
	check = func(e *xmlElem) {
		if typ := e.attr("Type"); typ != "" {
			typ = strings.TrimSuffix(strings.TrimPrefix(typ, "Collection("), ")")
			if !strings.HasPrefix(typ, "Edm.") && !declared[typ] {
				t.Errorf("%s names the undeclared type %s", e.Name, typ)
			}
		}
		for _, c := range e.Children {
			check(c)
		}
	}
	check(schema)
}

// The whole document is pinned, byte for byte.
func TestMetadataDocumentGolden(t *testing.T) {
	t.Parallel()
	doc := Graph().MetadataDocument()
	parseXML(t, doc)
	golden(t, "metadata", []byte(doc))
	if Graph().MetadataDocument() != doc {
		t.Error("the document is not stable")
	}
}

// Any model compiles to a well-formed document, the toy model's extra set included.
func TestMetadataDocumentWellFormed(t *testing.T) {
	t.Parallel()
	m, err := NewModel(toyModel())
	if err != nil {
		t.Fatal(err)
	}
	schema := schemaOf(t, parseXML(t, m.MetadataDocument()))
	sets := schema.find(edm+":EntityContainer", "GraphService")[0].find(edm+":EntitySet", "toys")
	if len(sets) != 1 || sets[0].attr("EntityType") != "graph.toy" {
		t.Errorf("the toy set: %v", sets)
	}
	if got := schema.find(edm+":EntityType", "toy")[0].find(edm+":Property", "total")[0].attr("Type"); got != "Edm.Int64" {
		t.Errorf("total has type %s", got)
	}
}
