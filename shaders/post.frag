#version 330
// Post pass, after the trails are taken (so none of this feeds back): chromatic shift (red and blue read
// from slightly scaled copies, more on the beat), vignette, and the strobe's flash (its rate is limited
// on the CPU side, see vj/look/strobe.py).
// Edit this file while `vj live` runs: it reloads, and a compile error shows in the HUD.
uniform sampler2D picture;  // a framebuffer's texture: its row 0 is the picture's bottom
uniform float aspect, chroma, vignette, flash;
in vec2 uv;
out vec4 colour;

vec4 at(vec2 p) {
    return texture(picture, vec2(p.x, 1.0 - p.y));
}

void main() {
    vec2 centred = uv - 0.5;
    vec3 c;
    if (chroma > 0.0) {
        c = vec3(at(0.5 + centred * (1.0 + chroma)).r, at(uv).g, at(0.5 + centred * (1.0 - chroma)).b);
    } else {
        c = at(uv).rgb;
    }
    vec2 round_ = centred * vec2(aspect / 1.7778, 1.0);
    c *= max(0.0, 1.0 - vignette * dot(round_, round_));
    c = mix(c, vec3(1.0), flash);
    colour = vec4(clamp(c, 0.0, 1.0), 1.0);
}
