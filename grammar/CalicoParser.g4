// Syntax of the calico policy language (.calico files). One short rule per line; values
// are WORDs whose meaning (CIDR, port, MAC, number) is checked by the source model builder.
parser grammar CalicoParser;

options { tokenVocab = CalicoLexer; }

policyFile : statement* EOF ;

statement : importDecl | netDecl | portsDecl | profileDecl | hostDecl ;

importDecl : IMPORT STRING SEMI ;

netDecl : NET name EQUALS values SEMI ;

portsDecl : PORTS name EQUALS values SEMI ;

profileDecl : PROFILE name LBRACE profileItem* RBRACE ;

profileItem : tagsDecl | inboundBlock | outboundBlock ;

tagsDecl : TAGS names SEMI ;

inboundBlock : INBOUND LBRACE policyRule* RBRACE ;

outboundBlock : OUTBOUND LBRACE policyRule* RBRACE ;

policyRule : action protocol? fromClause? toClause? icmpSpec? SEMI ;

action : ALLOW | DENY ;

protocol : WORD ;

fromClause : FROM match+ ;

toClause : TO match+ ;

match : tagMatch | netMatch | portMatch ;

tagMatch : TAG names ;

netMatch : NET values ;

portMatch : (PORT | PORTS) values ;

icmpSpec : TYPE value (CODE value)? ;

hostDecl : HOST name LBRACE workloadDecl* RBRACE ;

workloadDecl : WORKLOAD name name LBRACE endpointDecl* RBRACE ;

endpointDecl : ENDPOINT name LBRACE endpointItem* RBRACE ;

endpointItem
    : INTERFACE name SEMI # interfaceItem
    | MAC value SEMI # macItem
    | STATE name SEMI # stateItem
    | PROFILES names SEMI # profilesItem
    | IPV4 values SEMI # ipv4Item
    | IPV6 values SEMI # ipv6Item
    | GATEWAY value SEMI # gatewayItem
    | NAT value ARROW value SEMI # natItem
    ;

names : name (COMMA name)* ;

values : value (COMMA value)* ;

value : WORD ;

// Keywords are accepted as names, so a profile may be called 'host' or a tag 'web'.
name : WORD | keyword ;

keyword
    : ALLOW | CODE | DENY | ENDPOINT | FROM | GATEWAY | HOST | IMPORT | INBOUND | INTERFACE
    | IPV4 | IPV6 | MAC | NAT | NET | OUTBOUND | PORT | PORTS | PROFILE | PROFILES | STATE
    | TAG | TAGS | TO | TYPE | WORKLOAD
    ;
