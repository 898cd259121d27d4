package odata

import (
	"strconv"
	"strings"
)

// buildCSDL writes the CSDL document of a model (contract §1, §5.11): the enum types, the abstract entity base
// type, each entity type, the singletons that contain sets with their navigation properties, the complex types,
// the bound actions and the entity container.
func buildCSDL(m *Model) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="` + Namespace + `" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
`)
	for _, e := range m.Enums {
		b.WriteString(`      <EnumType Name="` + e.Name + `">` + "\n")
		for _, mem := range e.Members {
			b.WriteString(`        <Member Name="` + mem.Name + `" Value="` + strconv.FormatInt(mem.Value, 10) + `" />` + "\n")
		}
		b.WriteString("      </EnumType>\n")
	}
	b.WriteString(`      <EntityType Name="entity" Abstract="true">
        <Key>
          <PropertyRef Name="id" />
        </Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
      </EntityType>
`)
	written := map[*EntityType]bool{}
	for _, s := range m.Sets {
		t := s.Type
		if written[t] {
			continue
		}
		written[t] = true
		b.WriteString(`      <EntityType Name="` + t.Name + `" BaseType="graph.entity">` + "\n")
		for _, p := range t.Properties[1:] {
			b.WriteString(`        <Property Name="` + p.Name + `" Type="` + p.typeName + `"`)
			if !p.Nullable {
				b.WriteString(` Nullable="false"`)
			}
			b.WriteString(" />\n")
		}
		b.WriteString("      </EntityType>\n")
	}
	var containers []string
	for _, s := range m.Sets {
		if s.Container != "" && !contains(containers, s.Container) {
			containers = append(containers, s.Container)
		}
	}
	for _, c := range containers {
		b.WriteString(`      <EntityType Name="` + c + `" BaseType="graph.entity">` + "\n")
		for _, s := range m.Sets {
			if s.Container == c {
				b.WriteString(`        <NavigationProperty Name="` + s.Name + `" Type="Collection(graph.` + s.Type.Name + `)" ContainsTarget="true" />` + "\n")
			}
		}
		b.WriteString("      </EntityType>\n")
	}
	for _, c := range m.ComplexTypes {
		b.WriteString(`      <ComplexType Name="` + c.Name + `">` + "\n")
		for _, p := range c.Properties {
			b.WriteString(`        <Property Name="` + p.Name + `" Type="` + p.Type + `"`)
			if !p.Nullable {
				b.WriteString(` Nullable="false"`)
			}
			b.WriteString(" />\n")
		}
		b.WriteString("      </ComplexType>\n")
	}
	for _, s := range m.Sets {
		for _, a := range s.Actions {
			b.WriteString(`      <Action Name="` + a.Name + `" IsBound="true">` + "\n")
			b.WriteString(`        <Parameter Name="bindingParameter" Type="graph.` + s.Type.Name + `" />` + "\n")
			for _, p := range a.Parameters {
				b.WriteString(`        <Parameter Name="` + p.Name + `" Type="` + p.Type + `" />` + "\n")
			}
			if a.ReturnType != "" {
				b.WriteString(`        <ReturnType Type="` + a.ReturnType + `" />` + "\n")
			}
			b.WriteString("      </Action>\n")
		}
	}
	b.WriteString(`      <EntityContainer Name="GraphService">` + "\n")
	for _, c := range containers {
		b.WriteString(`        <Singleton Name="` + c + `" Type="graph.` + c + `" />` + "\n")
	}
	for _, s := range m.Sets {
		if s.Container == "" {
			b.WriteString(`        <EntitySet Name="` + s.Name + `" EntityType="graph.` + s.Type.Name + `" />` + "\n")
		}
	}
	b.WriteString(`      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
`)
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
