#version 330
// One triangle that covers the viewport; uv runs 0..1 with v=0 at the image's *top* row (numpy row 0),
// so the look's framebuffer holds the picture upright for a window (GL's row 0 is the bottom).
out vec2 uv;
void main() {
    vec2 corner = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);
    uv = vec2(corner.x, 1.0 - corner.y);
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
