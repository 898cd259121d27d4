package odata

// MetadataDocument is the CSDL of the part of Graph's beta model graphd serves: the entity type, the
// deviceManagement singleton with its contained collection, the complex types and the two bound actions
// (contract §1).
const MetadataDocument = `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="entity" Abstract="true">
        <Key>
          <PropertyRef Name="id" />
        </Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
      </EntityType>
      <EntityType Name="certificateConnectorDetails" BaseType="graph.entity">
        <Property Name="connectorName" Type="Edm.String" />
        <Property Name="machineName" Type="Edm.String" />
        <Property Name="enrollmentDateTime" Type="Edm.DateTimeOffset" Nullable="false" />
        <Property Name="lastCheckinDateTime" Type="Edm.DateTimeOffset" Nullable="false" />
        <Property Name="connectorVersion" Type="Edm.String" />
      </EntityType>
      <EntityType Name="deviceManagement" BaseType="graph.entity">
        <NavigationProperty Name="certificateConnectorDetails" Type="Collection(graph.certificateConnectorDetails)" ContainsTarget="true" />
      </EntityType>
      <ComplexType Name="keyLongValuePair">
        <Property Name="name" Type="Edm.String" Nullable="false" />
        <Property Name="value" Type="Edm.Int64" Nullable="false" />
      </ComplexType>
      <ComplexType Name="timeSeriesParameter">
        <Property Name="metricName" Type="Edm.String" />
        <Property Name="startDateTime" Type="Edm.DateTimeOffset" Nullable="false" />
        <Property Name="endDateTime" Type="Edm.DateTimeOffset" />
      </ComplexType>
      <ComplexType Name="certificateConnectorHealthMetricValue">
        <Property Name="dateTime" Type="Edm.DateTimeOffset" Nullable="false" />
        <Property Name="successCount" Type="Edm.Int64" Nullable="false" />
        <Property Name="failureCount" Type="Edm.Int64" Nullable="false" />
      </ComplexType>
      <Action Name="getHealthMetrics" IsBound="true">
        <Parameter Name="bindingParameter" Type="graph.certificateConnectorDetails" />
        <Parameter Name="metricNames" Type="Collection(Edm.String)" />
        <ReturnType Type="Collection(graph.keyLongValuePair)" />
      </Action>
      <Action Name="getHealthMetricTimeSeries" IsBound="true">
        <Parameter Name="bindingParameter" Type="graph.certificateConnectorDetails" />
        <Parameter Name="timeSeries" Type="graph.timeSeriesParameter" />
        <ReturnType Type="Collection(graph.certificateConnectorHealthMetricValue)" />
      </Action>
      <EntityContainer Name="GraphService">
        <Singleton Name="deviceManagement" Type="graph.deviceManagement" />
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
`
